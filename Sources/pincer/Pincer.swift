// The `pincer` command line: load a directory of plugins and list them, or
// run one session through the engine with the plugins loaded.

import ArgumentParser
import Foundation
import PincerCore
import PincerHost

@main
struct Pincer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A host for AI-agent sessions that loads native plugins through a stable C ABI.",
        version: "pincer \(PincerVersion.host) (plugin ABI \(PincerVersion.abi))",
        subcommands: [Plugins.self, Run.self])
}

/// Options every command that loads plugins shares.
struct HostOptions: ParsableArguments {
    @Option(name: .long, help: "Directory whose .so files are loaded as plugins, in sorted order.")
    var plugins: String

    @Option(name: .long, help: "Operator config file (JSON): plugin allow/deny lists, grants, plugin config, guards.")
    var config: String?

    func makeHost() throws -> PluginHost {
        var operatorConfig = OperatorConfig()
        if let config {
            do { operatorConfig = try OperatorConfig.load(path: config) } catch { throw ValidationError(error.description) }
        }
        let engine: Engine
        do { engine = try Engine(config: operatorConfig.engine) } catch { throw ValidationError("\(config ?? "config"): \(error.message)") }
        let host = PluginHost(engine: engine, config: operatorConfig)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: plugins, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--plugins \(plugins): no such directory")
        }
        try host.loadDirectory(plugins)
        return host
    }
}

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Inspect plugins.", subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load every plugin in a directory and print each one's id, version, ABI version and state (loaded, or refused with the reason).")

        @OptionGroup var options: HostOptions

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() throws {
            let host = try options.makeHost()
            host.shutdown()
            host.engine.shutdown()
            if json {
                print(host.recordsJSON)
                return
            }
            let rows = host.records.map { r in
                [r.id ?? "-", r.version ?? "-", r.abiVersion ?? "-", r.state.rawValue,
                 r.state == .loaded ? r.fileName : "\(r.fileName): \(r.reason ?? "")"]
            }
            print(Table.render(header: ["ID", "VERSION", "ABI", "STATE", "FILE / REASON"], rows: rows))
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load the plugins, run one session with MESSAGE through the engine, and print its transcript.")

    @OptionGroup var options: HostOptions

    @Argument(help: "The user message. The built-in local model reads @tool and @tool{json} as tool calls.")
    var message: String

    func run() throws {
        let host = try options.makeHost()
        host.start()
        let engine = host.engine
        let started: (sessionKey: String, runId: String)
        do { started = try engine.spawn(SessionSpec(message: message), by: .operator) } catch {
            throw ValidationError(error.message)
        }
        let result = (try? engine.wait(runId: started.runId, timeoutMs: UInt32(engine.config.defaultRunTimeoutSeconds * 1000 + 1000)))
        host.shutdown()
        print(TranscriptPrinter.render(sessionKey: started.sessionKey, messages: (try? engine.transcript(sessionKey: started.sessionKey)) ?? []))
        engine.shutdown()
        guard let result else { throw ExitCode.failure }
        print("run \(result.id) \(result.status.rawValue) in \(result.durationMs) ms\(result.error.map { ": \($0)" } ?? "")")
        if result.status != .completed { throw ExitCode.failure }
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
