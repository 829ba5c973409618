// What the command-line programs share (`pincer`, and `pincer-server` behind
// `pincer serve` and `pincer call`): their main (parse, run, exit), exit
// statuses, the runtime failure that prints one line, the store and config
// options, the process's log backend, and building an engine and a host from them.

import Foundation
import Logging
import PincerCore
import PincerHost
import PincerStore
import Synchronization

/// A command-line program's main: reads the arguments against `root`, runs what they ask for
/// and exits 0; a RuntimeFailure prints `<root>: <message>` on stderr and exits with its
/// status; a usage error prints the usage and exits 64 (EX_USAGE).
public enum CommandLineProgram {
    /// For a program whose commands are all synchronous (Command.Action.sync).
    public static func run(_ root: Command, version: String) -> Never {
        let (path, parsed) = invocation(root, version: version)
        do {
            guard case .sync(let action) = path.last!.action else {
                preconditionFailure("\(Command.name(of: path)) is async: run its program with the async main")
            }
            try action(parsed)
        } catch {
            fail(root, path, error)
        }
        exit(0)
    }

    public static func run(_ root: Command, version: String) async -> Never {
        let (path, parsed) = invocation(root, version: version)
        do {
            switch path.last!.action {
            case .sync(let action): try action(parsed)
            case .async(let action): try await action(parsed)
            case nil: preconditionFailure("invocation(_:version:) returns commands with an action")
            }
        } catch {
            fail(root, path, error)
        }
        exit(0)
    }

    /// The command to run and what was read for it; help, the version and usage errors end here.
    private static func invocation(_ root: Command, version: String) -> ([Command], ParsedArguments) {
        switch root.invocation(of: Array(CommandLine.arguments.dropFirst())) {
        case .run(let path, let parsed):
            return (path, parsed)
        case .version:
            print(version)
            exit(0)
        case .help(let path):
            print(Command.help(path, version: version), terminator: "")
            exit(0)
        case .usageError(let path, let message):
            usageError(path, message)
        }
    }

    private static func fail(_ root: Command, _ path: [Command], _ error: any Error) -> Never {
        switch error {
        case let failure as RuntimeFailure:
            FileHandle.standardError.write(Data("\(root.name): \(failure.message)\n".utf8))
            exit(failure.status.rawValue)
        case let quiet as QuietExit:
            exit(quiet.status)
        case is NeedsNetworkStack:
            do { try execServer() } catch { fail(root, path, error) }
        case let usage as UsageError:
            usageError(path, usage.message)
        default:
            FileHandle.standardError.write(Data("\(root.name): \(error)\n".utf8))
            exit(ExitStatus.error.rawValue)
        }
    }

    private static func usageError(_ path: [Command], _ message: String) -> Never {
        FileHandle.standardError.write(Data("Error: \(message)\nUsage: \(Command.usage(path))\n  See '\(Command.name(of: path)) --help' for more information.\n".utf8))
        exit(usageStatus)
    }

    /// EX_USAGE.
    public static let usageStatus: Int32 = 64

    /// Becomes pincer-server (installed beside this program) with this program's arguments,
    /// byte for byte: the program that carries the server and network stacks, for `serve`,
    /// `call`, and any command under a config that names network providers. Returns only by
    /// throwing.
    public static func execServer() throws -> Never {
        let own = try ownExecutable()
        let server = ((own as NSString).deletingLastPathComponent as NSString).appendingPathComponent("pincer-server")
        // A pincer-server that is this program (a link to it) would run itself again and again.
        if let target = realpath(server, nil) {
            defer { free(target) }
            guard String(cString: target) != own else {
                throw RuntimeFailure(message: "\(server) is this program (\(own)), not pincer-server; install pincer-server beside pincer")
            }
        }
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup(server)]
        for i in 1..<Int(CommandLine.argc) { argv.append(CommandLine.unsafeArgv[i]) }
        argv.append(nil)
        execv(server, &argv)
        throw RuntimeFailure(message: "\(server): cannot run it (\(String(cString: strerror(errno)))); pincer runs serve, call and commands under a config naming providers[] in pincer-server, installed beside it")
    }

    /// This program's file, resolved (/proc/self/exe), to run itself or pincer-server from.
    public static func ownExecutable() throws -> String {
        guard let own = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"), own.hasPrefix("/") else {
            throw RuntimeFailure(message: "cannot tell where this program is (/proc/self/exe is unreadable)")
        }
        return own
    }
}

/// Ends the program with `status` and nothing more printed (what was to say is said).
public struct QuietExit: Error {
    public var status: Int32
    public init(status: Int32) { self.status = status }
}

/// How `pincer` exits; a usage error exits 64 (CommandLineProgram.usageStatus).
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
public struct StoreOptions: Sendable {
    public static let options: [Option] = [
        .value("store", help: "SQLite store for sessions, transcripts and runs (default: $XDG_STATE_HOME/pincer/pincer.sqlite, else ~/.local/state/pincer/pincer.sqlite)."),
        .flag("no-store", help: "Keep sessions in memory only."),
    ]

    public var store: String?
    public var noStore = false

    public init(_ parsed: ParsedArguments) {
        store = parsed.value("store")
        noStore = parsed.flag("no-store")
    }

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

/// An engine from the operator config and a store (opened only once the config is read),
/// without plugins. A config naming network providers in a program without the network
/// stack throws NeedsNetworkStack: `pincer` then runs the command in pincer-server.
public func makeEngine(config path: String?, store openStore: () throws -> (any SessionStore)?) throws -> (Engine, OperatorConfig) {
    let operatorConfig = try loadConfig(path)
    let network = NetworkStack.providers
    if !operatorConfig.providers.isEmpty, network == nil { throw NeedsNetworkStack() }
    let store = try openStore()
    do {
        return (try operatorConfig.makeEngine(store: store, network: network), operatorConfig)
    } catch {
        throw RuntimeFailure(message: "\(path ?? "config"): \(error.message)")
    }
}

/// The network stack of a program that carries one: pincer-server registers PincerOpenAI's
/// providers at start. `pincer` carries none, so its commands start without loading it.
public enum NetworkStack {
    private static let registered = Mutex<NetworkProviderFactory?>(nil)

    public static func register(_ providers: @escaping NetworkProviderFactory) {
        registered.withLock { $0 = providers }
    }

    static var providers: NetworkProviderFactory? { registered.withLock { $0 } }
}

/// The config names network providers and this program has no network stack.
struct NeedsNetworkStack: Error {}

/// The config option every command that hosts plugins shares; each command
/// declares its own --plugins, required or not.
public struct HostOptions: Sendable {
    public static let options: [Option] = [
        .value("config", help: "Operator config file (JSON): plugin allow/deny lists, grants, plugin config, guards."),
    ]

    public var config: String?

    public init(_ parsed: ParsedArguments) {
        config = parsed.value("config")
    }

    /// A host over an engine from the config, with the plugins in `plugins` loaded (none when nil).
    public func makeHost(plugins: String?, store: () throws -> (any SessionStore)? = { nil }) throws -> PluginHost {
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

