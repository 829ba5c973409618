// What the command-line programs share (`pincer`, and `pincer-server` behind
// `pincer serve` and `pincer call`): exit statuses, the runtime failure that
// prints one line, the store and config options, the process's log backend, and
// building an engine and a host from them.

import ArgumentParser
import Foundation
import Logging
import PincerCore
import PincerHost
import PincerStore
import Synchronization

/// How `pincer` exits; usage errors keep ArgumentParser's 64 (EX_USAGE).
public enum ExitStatus: Int32, Sendable {
    case completed = 0
    /// An error before or outside the run: config, store, plugins directory, a refused spawn.
    case error = 1
    /// `pincer call`: the gateway answered with a JSON-RPC error.
    case rpcError = 2
    case failed = 3
    case timedOut = 4
    case cancelled = 5
    case interrupted = 6

    /// A run's outcome; a run still going when the wait for it gave up counts as timed out.
    public init(_ status: RunStatus) {
        switch status {
        case .completed: self = .completed
        case .failed: self = .failed
        case .timedOut, .queued, .running: self = .timedOut
        case .cancelled: self = .cancelled
        case .interrupted: self = .interrupted
        }
    }
}

/// A runtime error: printed as `pincer: <message>` on stderr, exiting with `status`.
public struct RuntimeFailure: Error {
    public var message: String
    public var status = ExitStatus.error

    public init(message: String, status: ExitStatus = .error) {
        self.message = message
        self.status = status
    }
}

/// Where sessions are kept: an SQLite file (the default), or nowhere.
public struct StoreOptions: ParsableArguments {
    public init() {}

    @Option(name: .long, help: "SQLite store for sessions, transcripts and runs (default: $XDG_STATE_HOME/pincer/pincer.sqlite, else ~/.local/state/pincer/pincer.sqlite).")
    public var store: String?

    @Flag(name: .long, help: "Keep sessions in memory only.")
    public var noStore = false

    public static var defaultPath: String {
        let env = ProcessInfo.processInfo.environment
        let state = env["XDG_STATE_HOME"] ?? ((env["HOME"] ?? NSTemporaryDirectory()) + "/.local/state")
        return state + "/pincer/pincer.sqlite"
    }

    /// Opens the store; read-only for commands that only look (a running host may own it).
    public func open(readOnly: Bool = false) throws -> SQLiteStore? {
        if noStore { return nil }
        let path = store ?? StoreOptions.defaultPath
        if readOnly, !FileManager.default.fileExists(atPath: path) { throw RuntimeFailure(message: "no store at \(path)") }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        do { return try SQLiteStore(path: path, readOnly: readOnly) } catch { throw RuntimeFailure(message: error.message) }
    }
}

/// The operator config at `path` (the defaults when nil); a bad file is a RuntimeFailure naming it.
/// The first config loaded sets the log levels (log.level, log.plugins) for the process.
public func loadConfig(_ path: String?) throws -> OperatorConfig {
    let config: OperatorConfig
    if let path {
        do { config = try OperatorConfig.load(path: path) } catch { throw RuntimeFailure(message: error.description) }
    } else {
        config = OperatorConfig()
    }
    HostLogging.start(hostLevel: config.logLevel, pluginLevel: config.pluginLogLevel)
    return config
}

/// swift-log's backend for the command line: HostLogHandler on stderr, once per process.
public enum HostLogging {
    private static let started = Mutex(false)

    public static func start(hostLevel: Logger.Level, pluginLevel: Logger.Level) {
        guard started.withLock({ started in defer { started = true }; return !started }) else { return }
        LoggingSystem.bootstrap { label in
            HostLogHandler(label: label, level: label == HostLogHandler.pluginLabel ? pluginLevel : hostLevel)
        }
    }
}

/// An engine from the operator config (and a store), without plugins.
public func makeEngine(config path: String?, store: (any SessionStore)?) throws -> (Engine, OperatorConfig) {
    let operatorConfig = try loadConfig(path)
    do {
        return (try operatorConfig.makeEngine(store: store), operatorConfig)
    } catch {
        throw RuntimeFailure(message: "\(path ?? "config"): \(error.message)")
    }
}

/// The config option every command that hosts plugins shares; each command
/// declares its own --plugins, required or not.
public struct HostOptions: ParsableArguments {
    public init() {}

    @Option(name: .long, help: "Operator config file (JSON): plugin allow/deny lists, grants, plugin config, guards.")
    public var config: String?

    /// A host over an engine from the config, with the plugins in `plugins` loaded (none when nil).
    public func makeHost(plugins: String?, store: (any SessionStore)? = nil) throws -> PluginHost {
        let (engine, operatorConfig) = try makeEngine(config: config, store: store)
        let host = PluginHost(engine: engine, config: operatorConfig)
        guard let plugins else { return host }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: plugins, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RuntimeFailure(message: "--plugins \(plugins): no such directory")
        }
        do { try host.loadDirectory(plugins) } catch let refusal as PluginHost.StartRefusal {
            host.shutdown()
            throw RuntimeFailure(message: refusal.description)
        } catch {
            throw RuntimeFailure(message: "--plugins \(plugins): \(error.localizedDescription)")
        }
        return host
    }
}

