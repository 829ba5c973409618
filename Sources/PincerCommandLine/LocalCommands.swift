// The commands both programs carry: `pincer` (without the network stack) and
// pincer-server (with it, for configs that name network providers): plugins
// list, tools list, validate, run, sessions. `serve` and `call` are
// pincer-server's own.

import Foundation
import PincerCore
import PincerHost
import PincerStore

public enum LocalCommands {
    /// The root command "pincer" with these commands, then `more` (serve and call).
    public static func root(adding more: [Command]) -> Command {
        Command(
            "pincer",
            abstract: "A host for AI-agent sessions that loads native plugins through a stable C ABI.",
            discussion: "A runtime error (config, store, plugins directory) prints one line, pincer: <message>, on stderr and exits 1; a usage error prints the usage and exits 64. See pincer run --help for a run's exit statuses.",
            subcommands: [Plugins.command, Tools.command, Validate.command, ValidateCheck.command, Run.command, Sessions.command] + more)
    }

    public static let version = "pincer \(PincerVersion.host) (plugin ABI \(PincerVersion.abi))"
}

enum Plugins {
    static let command = Command("plugins", abstract: "Inspect plugins.", subcommands: [list])

    static let list = Command(
        "list",
        abstract: "Load every plugin in a directory and print each one's id, version, language (and the SDK that built it, when the descriptor says), ABI version, state (loaded, or refused with the reason) and the tools and hooks it registered in init.",
        options: [.value("plugins", required: true, help: "Directory whose .so files are loaded as plugins, in sorted order.")]
            + HostOptions.options + [.flag("json", help: "Print JSON instead of a table.")], action: .sync { parsed in
        try List(plugins: parsed.required("plugins"), options: HostOptions(parsed), json: parsed.flag("json")).run()
    })

    struct List {
        var plugins: String
        var options: HostOptions
        var json: Bool

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
                 r.abiVersion ?? "-", r.state.rawValue, r.mayUseAgents ? "allowed" : "-",
                 r.state == .loaded ? r.fileName : "\(r.fileName): \(r.reason ?? "")",
                 (r.tools.map { "tool \($0)" } + r.hooks.map { "hook \($0)" } + r.methods.map { "method \($0)" }
                  + r.routes.map { "route \($0)" }).joined(separator: ", ")]
            }
            print(Table.render(header: ["ID", "VERSION", "LANGUAGE", "ABI", "STATE", "AGENTS", "FILE / REASON", "REGISTERED"], rows: rows))
        }
    }
}

enum Tools {
    static let command = Command("tools", abstract: "Inspect the tools sessions can be offered.", subcommands: [list])

    static let list = Command(
        "list",
        abstract: "List every tool a session could be offered: the host's built-in tools and those the plugins in --plugins register, each with its group, owner, description and arguments (the whole JSON Schema with --json), and whether the host's tool policy (operator config tools) allows it.",
        options: [.value("plugins", help: "Directory whose .so files are loaded as plugins, so their tools are listed too (default: none).")]
            + HostOptions.options + [.flag("json", help: "Print JSON instead of a table.")], action: .sync { parsed in
        try List(plugins: parsed.value("plugins"), options: HostOptions(parsed), json: parsed.flag("json")).run()
    })

    struct List {
        var plugins: String?
        var options: HostOptions
        var json: Bool

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

struct Run {
    static let command = Command(
        "run",
        abstract: "Run one session with MESSAGE through the engine, with the plugins in --plugins loaded, and print its transcript.",
        discussion: """
            The transcript goes to stdout, then the run's summary: on stdout when the run completed, \
            else on stderr as pincer: run <id> <status> in <n> ms: <error>.

            Exit status: 0 the run completed; 1 an error before or outside the run (config, store, \
            plugins directory, a refused spawn); 3 the run failed; 4 it timed out; 5 it was cancelled; \
            6 it was interrupted; 64 a usage error.
            """,
        options: [.value("plugins", help: "Directory whose .so files are loaded as plugins, in sorted order (default: none).")]
            + HostOptions.options + StoreOptions.options + [
                .value("model", help: "Model for this session (see the catalog: local/scripted, local/instant)."),
                .value("agent", help: "Run the session on an external coding agent the config names (acp.agents.<name>): the model acp/<name>."),
                .value("metadata", help: "Initial session metadata: a JSON object keyed by namespace, e.g. '{\"session-envelope\": {\"policy\": \"strict\"}}'. Each loaded plugin sees only its own namespace (and may refuse the session over it)."),
                .value("linger-ms", default: "0", help: "Keep the host up this many milliseconds after the run ends, so plugins' own background work can finish before they are stopped.",
                       accepts: { UInt32($0) != nil }),
            ],
        arguments: [Argument("message", help: "The user message. The built-in local model reads @tool and @tool{json} as tool calls.")], action: .sync { parsed in
        try Run(plugins: parsed.value("plugins"), options: HostOptions(parsed), storeOptions: StoreOptions(parsed), model: parsed.value("model"),
                agent: parsed.value("agent"), metadata: parsed.value("metadata"), lingerMs: parsed.number("linger-ms"),
                message: parsed.required("message")).run()
    })

    var plugins: String?
    var options: HostOptions
    var storeOptions: StoreOptions
    var model: String?
    var agent: String?
    var metadata: String?
    var lingerMs: UInt32
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
        if agent != nil, model != nil { throw RuntimeFailure(message: "--agent and --model both name the session's model; give one") }
        let metadata = try initialMetadata()
        let host = try options.makeHost(plugins: plugins, store: { try storeOptions.open() })
        let engine = host.engine
        if engine.interruptedAtStart > 0 {
            FileHandle.standardError.write(Data("pincer: \(engine.interruptedAtStart) run(s) a stopped host left in flight are now marked interrupted\n".utf8))
        }
        host.start()
        let started: (sessionKey: String, runId: String)
        let model = agent.map { AccessPolicy.externalAgentPrefix + $0 } ?? self.model
        do { started = try engine.spawn(SessionSpec(message: message, model: model, metadata: metadata), by: .operator) } catch {
            host.shutdown()
            engine.shutdown()
            throw RuntimeFailure(message: error.message)
        }
        let waited = Result { () throws(EngineError) in
            try engine.wait(runId: started.runId, timeoutMs: UInt32(engine.config.defaultRunTimeoutSeconds * 1000 + 1000), by: .operator)
        }
        if lingerMs > 0 { Thread.sleep(forTimeInterval: Double(lingerMs) / 1000) }
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

enum Sessions {
    static let command = Command("sessions", abstract: "Read sessions from the store.", subcommands: [list, show])

    static let list = Command("list", abstract: "List every stored session, oldest first.", options: StoreOptions.options, action: .sync { parsed in
        let (engine, _) = try makeEngine(config: nil, store: { try StoreOptions(parsed).open(readOnly: true) })
        print(Table.render(header: ["KEY", "OWNER", "MODEL", "MESSAGES", "LABEL"], rows: engine.sessionSummaries.map {
            [$0.key, $0.owner, $0.model, String($0.messages), $0.label ?? ""]
        }))
    })

    static let show = Command("show", abstract: "Print a stored session's transcript and runs.", options: StoreOptions.options,
                              arguments: [Argument("key", help: "The session key.")], action: .sync { parsed in
        let key = parsed.required("key")
        let (engine, _) = try makeEngine(config: nil, store: { try StoreOptions(parsed).open(readOnly: true) })
        let messages: [Message]
        do throws(EngineError) { messages = try engine.transcript(sessionKey: key, by: .operator) } catch { throw RuntimeFailure(message: error.message) }
        print(TranscriptPrinter.render(sessionKey: key, messages: messages))
        for run in engine.runs(ofSession: key) {
            print("run \(run.id) \(run.status.rawValue)\(run.error.map { ": \($0)" } ?? "")")
            for event in (try? engine.events(ofRun: run.id, by: .operator)) ?? [] { print("    \(event.summary)") }
        }
    })
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
