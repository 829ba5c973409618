// The `pincer` command line: load a directory of plugins and list them, or
// run one session through the engine with the plugins loaded.
//
// Usage errors are ArgumentParser's (usage text, exit 64). Anything that goes
// wrong once the arguments are understood (a config, a store, a plugins
// directory, a run that does not complete) is a RuntimeFailure: one line on stderr
// and an exit status of its own, so scripts can tell outcomes apart.

import ArgumentParser
import Foundation
import Logging
import PincerCore
import PincerHost
import PincerStore
import Synchronization

// Every command names itself (commandName): without one, ArgumentParser derives the name from
// the type's through String(describing:), runtime conformance lookups that scan every loaded
// image, for each command type at each start (a quarter of a cold start's instructions).
@main
struct Pincer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pincer",
        abstract: "A host for AI-agent sessions that loads native plugins through a stable C ABI.",
        discussion: "A runtime error (config, store, plugins directory) prints one line, pincer: <message>, on stderr and exits 1; a usage error prints the usage and exits 64. See pincer run --help for a run's exit statuses.",
        version: "pincer \(PincerVersion.host) (plugin ABI \(PincerVersion.abi))",
        subcommands: [Plugins.self, Tools.self, Validate.self, ValidateCheck.self, Run.self, Sessions.self])

    /// ArgumentParser's main, but a RuntimeFailure is reported as one line, without usage text.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as RuntimeFailure {
            FileHandle.standardError.write(Data("pincer: \(failure.message)\n".utf8))
            exit(withError: ExitCode(failure.status.rawValue))
        } catch {
            exit(withError: error)
        }
    }
}

/// How `pincer` exits; usage errors keep ArgumentParser's 64 (EX_USAGE).
enum ExitStatus: Int32 {
    case completed = 0
    /// An error before or outside the run: config, store, plugins directory, a refused spawn.
    case error = 1
    case failed = 3
    case timedOut = 4
    case cancelled = 5
    case interrupted = 6

    /// A run's outcome; a run still going when the wait for it gave up counts as timed out.
    init(_ status: RunStatus) {
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
struct RuntimeFailure: Error {
    var message: String
    var status = ExitStatus.error
}

/// Where sessions are kept: an SQLite file (the default), or nowhere.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "SQLite store for sessions, transcripts and runs (default: $XDG_STATE_HOME/pincer/pincer.sqlite, else ~/.local/state/pincer/pincer.sqlite).")
    var store: String?

    @Flag(name: .long, help: "Keep sessions in memory only.")
    var noStore = false

    static var defaultPath: String {
        let env = ProcessInfo.processInfo.environment
        let state = env["XDG_STATE_HOME"] ?? ((env["HOME"] ?? NSTemporaryDirectory()) + "/.local/state")
        return state + "/pincer/pincer.sqlite"
    }

    /// Opens the store; read-only for commands that only look (a running host may own it).
    func open(readOnly: Bool = false) throws -> SQLiteStore? {
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
func loadConfig(_ path: String?) throws -> OperatorConfig {
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
enum HostLogging {
    private static let started = Mutex(false)

    static func start(hostLevel: Logger.Level, pluginLevel: Logger.Level) {
        guard started.withLock({ started in defer { started = true }; return !started }) else { return }
        LoggingSystem.bootstrap { label in
            HostLogHandler(label: label, level: label == HostLogHandler.pluginLabel ? pluginLevel : hostLevel)
        }
    }
}

/// An engine from the operator config (and a store), without plugins.
func makeEngine(config path: String?, store: (any SessionStore)?) throws -> (Engine, OperatorConfig) {
    let operatorConfig = try loadConfig(path)
    do {
        return (try operatorConfig.makeEngine(store: store), operatorConfig)
    } catch {
        throw RuntimeFailure(message: "\(path ?? "config"): \(error.message)")
    }
}

/// The config option every command that hosts plugins shares; each command
/// declares its own --plugins, required or not.
struct HostOptions: ParsableArguments {
    @Option(name: .long, help: "Operator config file (JSON): plugin allow/deny lists, grants, plugin config, guards.")
    var config: String?

    /// A host over an engine from the config, with the plugins in `plugins` loaded (none when nil).
    func makeHost(plugins: String?, store: (any SessionStore)? = nil) throws -> PluginHost {
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

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plugins", abstract: "Inspect plugins.", subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Load every plugin in a directory and print each one's id, version, language (and the SDK that built it, when the descriptor says), ABI version, state (loaded, or refused with the reason) and the tools and hooks it registered in init.")

        @Option(name: .long, help: "Directory whose .so files are loaded as plugins, in sorted order.")
        var plugins: String

        @OptionGroup var options: HostOptions

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() throws {
            let host = try options.makeHost(plugins: plugins)
            host.shutdown()
            host.engine.shutdown()
            if json {
                print(host.recordsJSON)
                return
            }
            let rows = host.records.map { r in
                [r.id ?? "-", r.version ?? "-", r.language.map { lang in r.sdk.map { "\(lang) (\($0))" } ?? lang } ?? r.sdk ?? "-",
                 r.abiVersion ?? "-", r.state.rawValue,
                 r.state == .loaded ? r.fileName : "\(r.fileName): \(r.reason ?? "")",
                 (r.tools.map { "tool \($0)" } + r.hooks.map { "hook \($0)" }).joined(separator: ", ")]
            }
            print(Table.render(header: ["ID", "VERSION", "LANGUAGE", "ABI", "STATE", "FILE / REASON", "REGISTERED"], rows: rows))
        }
    }
}

struct Tools: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tools", abstract: "Inspect the tools sessions can be offered.", subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List every tool a session could be offered: the host's built-in tools and those the plugins in --plugins register, each with its group, owner, description and arguments (the whole JSON Schema with --json), and whether the host's tool policy (operator config tools) allows it.")

        @Option(name: .long, help: "Directory whose .so files are loaded as plugins, so their tools are listed too (default: none).")
        var plugins: String?

        @OptionGroup var options: HostOptions

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() throws {
            let host = try options.makeHost(plugins: plugins)
            let catalog = host.engine.tools.catalogJSON(hostPolicy: host.engine.config.toolPolicy)
            host.shutdown()
            host.engine.shutdown()
            if json {
                print(catalog)
                return
            }
            let rows = (catalog.arrayValue ?? []).map { tool in
                [tool["name"]?.stringValue ?? "-", tool["group"]?.stringValue ?? "-", tool["owner"]?.stringValue ?? "-",
                 tool["hostPolicy"]?.stringValue == "allowed" ? "allowed" : "denied", Tools.arguments(of: tool["parameters"]),
                 tool["description"]?.stringValue ?? ""]
            }
            print(Table.render(header: ["NAME", "GROUP", "OWNER", "HOST POLICY", "ARGUMENTS", "DESCRIPTION"], rows: rows))
        }
    }

    /// A schema's properties in one line, "name: type" ("name?: type" when not required).
    static func arguments(of schema: JSON?) -> String {
        guard let properties = schema?["properties"]?.objectValue, !properties.isEmpty else { return "-" }
        let required = Set((schema?["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        return properties.map { name, property in
            "\(name)\(required.contains(name) ? "" : "?"): \(property["type"]?.stringValue ?? "any")"
        }.joined(separator: ", ")
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one session with MESSAGE through the engine, with the plugins in --plugins loaded, and print its transcript.",
        discussion: """
            The transcript goes to stdout, then the run's summary: on stdout when the run completed, \
            else on stderr as pincer: run <id> <status> in <n> ms: <error>.

            Exit status: 0 the run completed; 1 an error before or outside the run (config, store, \
            plugins directory, a refused spawn); 3 the run failed; 4 it timed out; 5 it was cancelled; \
            6 it was interrupted; 64 a usage error.
            """)

    @Option(name: .long, help: "Directory whose .so files are loaded as plugins, in sorted order (default: none).")
    var plugins: String?

    @OptionGroup var options: HostOptions
    @OptionGroup var storeOptions: StoreOptions

    @Option(name: .long, help: "Model for this session (see the catalog: local/scripted, local/instant).")
    var model: String?

    @Option(name: .long, help: "Initial session metadata: a JSON object keyed by namespace, e.g. '{\"session-envelope\": {\"policy\": \"strict\"}}'. Each loaded plugin sees only its own namespace (and may refuse the session over it).")
    var metadata: String?

    @Option(name: .long, help: "Keep the host up this many milliseconds after the run ends, so plugins' own background work can finish before they are stopped (default 0).")
    var lingerMs: UInt32 = 0

    @Argument(help: "The user message. The built-in local model reads @tool and @tool{json} as tool calls.")
    var message: String

    /// --metadata, read as namespace → object.
    private func initialMetadata() throws -> [String: JSON] {
        guard let metadata else { return [:] }
        let parsed: JSON
        do { parsed = try JSON.parse(metadata) } catch { throw RuntimeFailure(message: "--metadata is not valid JSON: \(error)") }
        guard let members = parsed.objectValue else {
            throw RuntimeFailure(message: "--metadata must be a JSON object keyed by namespace ({\"<plugin-id>\": {…}}), not a \(parsed.typeName)")
        }
        return Dictionary(members, uniquingKeysWith: { $1 })
    }

    func run() throws {
        let metadata = try initialMetadata()
        let host = try options.makeHost(plugins: plugins, store: try storeOptions.open())
        let engine = host.engine
        if engine.interruptedAtStart > 0 {
            FileHandle.standardError.write(Data("pincer: \(engine.interruptedAtStart) run(s) a stopped host left in flight are now marked interrupted\n".utf8))
        }
        host.start()
        let started: (sessionKey: String, runId: String)
        do { started = try engine.spawn(SessionSpec(message: message, model: model, metadata: metadata), by: .operator) } catch {
            throw RuntimeFailure(message: error.message)
        }
        let waited = Result { () throws(EngineError) in
            try engine.wait(runId: started.runId, timeoutMs: UInt32(engine.config.defaultRunTimeoutSeconds * 1000 + 1000), by: .operator)
        }
        if lingerMs > 0 { usleep(lingerMs * 1000) }
        host.shutdown()
        print(TranscriptPrinter.render(sessionKey: started.sessionKey, messages: (try? engine.transcript(sessionKey: started.sessionKey, by: .operator)) ?? []))
        engine.shutdown()
        let result: RunSnapshot
        do { result = try waited.get() } catch { throw RuntimeFailure(message: "run \(started.runId): \(error.message)") }
        let summary = "run \(result.id) \(result.status.rawValue) in \(result.durationMs) ms\(result.error.map { ": \($0)" } ?? "")"
        guard result.status == .completed else { throw RuntimeFailure(message: summary, status: ExitStatus(result.status)) }
        print(summary)
    }
}

struct Sessions: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sessions", abstract: "Read sessions from the store.", subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List every stored session, oldest first.")
        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let (engine, _) = try makeEngine(config: nil, store: try storeOptions.open(readOnly: true))
            print(Table.render(header: ["KEY", "OWNER", "MODEL", "MESSAGES", "LABEL"], rows: engine.sessionSummaries.map {
                [$0.key, $0.owner, $0.model, String($0.messages), $0.label ?? ""]
            }))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a stored session's transcript and runs.")
        @OptionGroup var storeOptions: StoreOptions

        @Argument(help: "The session key.")
        var key: String

        func run() throws {
            let (engine, _) = try makeEngine(config: nil, store: try storeOptions.open(readOnly: true))
            let messages: [Message]
            do { messages = try engine.transcript(sessionKey: key, by: .operator) } catch { throw RuntimeFailure(message: error.message) }
            print(TranscriptPrinter.render(sessionKey: key, messages: messages))
            for run in engine.runs(ofSession: key) {
                print("run \(run.id) \(run.status.rawValue)\(run.error.map { ": \($0)" } ?? "")")
                for event in (try? engine.events(ofRun: run.id, by: .operator)) ?? [] { print("    \(event.summary)") }
            }
        }
    }
}

enum TranscriptPrinter {
    static func render(sessionKey: String, messages: [Message]) -> String {
        var lines = ["session \(sessionKey)"]
        for m in messages {
            var line = "  " + m.role.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) + " "
            switch m.role {
            case .tool: line += "\(m.toolName ?? "?")\(m.isError ? " (error)" : ""): \(m.content)"
            default: line += m.content
            }
            for call in m.toolCalls { line += "  → \(call.name) \(call.arguments)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = (0..<header.count).map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
