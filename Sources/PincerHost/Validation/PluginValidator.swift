// One check of `pincer validate`, run in this process (the CLI gives each
// check a process of its own). The file checks follow the loader's steps;
// the others drive the plugin in a real host — an in-memory engine with the
// built-in local model — through a scenario (load, start, a synthetic session
// past every hook point, each of its tools called, stop while the engine goes
// on) and judge one aspect of what it did, from the host's diagnostics.

import CPincer
import Foundation
import PincerCore
import Synchronization

public struct PluginValidator: Sendable {
    public let path: String
    public let config: OperatorConfig
    /// An unknown capability fails instead of warning.
    public let strict: Bool

    /// How long a synthetic run may take (each tool call is one run).
    static let runTimeoutSeconds = 10
    /// How long threads and late calls get to show up (or go away) after shutdown returned.
    static let graceMs = 500

    public init(path: String, config: OperatorConfig = OperatorConfig(), strict: Bool = false) {
        self.path = path
        self.config = config
        self.strict = strict
    }

    public func run(_ check: PluginCheck) -> CheckOutcome {
        switch check {
        case .file:
            return PluginLoader.elfProblem(path).map { CheckOutcome(.fail, $0) } ?? CheckOutcome(.pass, "ELF shared object")
        case .exports: return exports()
        case .loads: return loaderStep(.load)
        case .entry: return loaderStep(.entry)
        case .version: return loaderStep(.version)
        case .descriptor: return loaderStep(.descriptor)
        case .functions: return loaderStep(.functions)
        case .capabilities: return capabilities()
        case .lifecycle, .reinit, .registrations, .hooks, .tools, .afterShutdown, .threads, .runs:
            return exercise(check)
        }
    }

    // MARK: - The file

    private func exports() -> CheckOutcome {
        let symbols: [String]
        do { symbols = try ExportedSymbols.of(path) } catch { return CheckOutcome(.skip, error.description) }
        let entries = symbols.filter { $0 == PINCER_ENTRY_FUNCTION_SYMBOL || $0 == PINCER_ENTRY_DATA_SYMBOL }
        let others = symbols.filter { !entries.contains($0) }
        if entries.count > 1 {
            return CheckOutcome(.fail, "exports both \(PINCER_ENTRY_FUNCTION_SYMBOL) and \(PINCER_ENTRY_DATA_SYMBOL); entry.h wants exactly one")
        }
        if !others.isEmpty {
            let shown = others.prefix(8).joined(separator: ", ") + (others.count > 8 ? ", …" : "")
            return CheckOutcome(.fail, "exports \(others.count) symbols beside the entry (\(shown)): link with the version script pincer-plugin.map, which hides them, so two plugins never collide on a name")
        }
        guard let entry = entries.first else { return CheckOutcome(.fail, "exports neither \(PINCER_ENTRY_FUNCTION_SYMBOL) nor \(PINCER_ENTRY_DATA_SYMBOL)") }
        return CheckOutcome(.pass, "exports \(entry) only")
    }

    /// A step of PluginLoader.open: failed there, passed it, or never reached it.
    private func loaderStep(_ step: PluginLoader.Stage) -> CheckOutcome {
        // dlopen alone: open() would go on to call the entry function, which is the next check's.
        if step == .load {
            switch PluginLoader.load(path) {
            case .success: return CheckOutcome(.pass, "dlopen succeeded")
            case .failure(let problem): return CheckOutcome(.fail, problem.reason)
            }
        }
        switch PluginLoader.open(path) {
        case .failure(let refusal) where refusal.stage == step:
            return CheckOutcome(.fail, refusal.record.reason ?? "refused")
        case .failure(let refusal) where refusal.stage < step:
            return CheckOutcome(.skip, "an earlier step refused it: \(refusal.record.reason ?? "")")
        case .failure(let refusal):
            return CheckOutcome(.pass, passDetail(step, refusal.record, entry: nil))
        case .success(let opened):
            return CheckOutcome(.pass, passDetail(step, opened.record, entry: opened.entry))
        }
    }

    private func passDetail(_ step: PluginLoader.Stage, _ record: PluginRecord, entry: pincer_plugin_entry?) -> String {
        switch step {
        case .file, .load:
            return "dlopen succeeded"
        case .entry:
            let image = try? PluginLoader.load(path).get()  // already loaded: the same handle
            return dlsym(image, PINCER_ENTRY_FUNCTION_SYMBOL) != nil ? "\(PINCER_ENTRY_FUNCTION_SYMBOL)() returns the entry" : "\(PINCER_ENTRY_DATA_SYMBOL) is the entry"
        case .version:
            return "built for ABI \(record.abiVersion ?? "?"); this host speaks \(PincerVersion.abi)"
        case .descriptor:
            let language = [record.language, record.sdk].compactMap { $0 }.joined(separator: ", ")
            return "'\(record.id ?? "?")' \(record.version ?? "?")" + (language.isEmpty ? "" : " (\(language))")
        case .functions:
            guard let entry else { return "init and shutdown are set" }
            return "init and shutdown are set; start \(entry.start == nil ? "is not" : "is"), get_extension \(entry.get_extension == nil ? "is not" : "is")"
        }
    }

    private func capabilities() -> CheckOutcome {
        guard case .success(let opened) = PluginLoader.open(path) else { return CheckOutcome(.skip, "the loader refuses the file") }
        let unknown = opened.requested.filter { cap in !Capabilities.byId.contains { $0.0 == cap } }
        if unknown.isEmpty {
            return CheckOutcome(.pass, opened.requested.isEmpty ? "asks for none" : opened.requested.joined(separator: ", "))
        }
        let line = "asks for capabilities this host does not know: \(unknown.joined(separator: ", ")) (a newer minor's, or a typo)"
        return strict ? CheckOutcome(.fail, line + "; --strict refuses them") : CheckOutcome(.warn, line + "; the host ignores them")
    }

    // MARK: - The plugin at work

    private func exercise(_ check: PluginCheck) -> CheckOutcome {
        // Its hooks see sessions it may use: the validator's synthetic sessions are the operator's.
        var config = config
        if case .success(let opened) = PluginLoader.open(path), let id = opened.record.id { config.engine.fullSessionAccess.insert(id) }
        let scenario: Scenario
        do { scenario = try Scenario(config: config) } catch { return CheckOutcome(.fail, "the validator's host did not start: \(error)") }
        let baseline = Scenario.threads()
        let record = scenario.host.load(file: path)
        guard record.state == .loaded, let id = record.id else {
            return CheckOutcome(.fail, "refused: \(record.reason ?? "no reason")")
        }
        scenario.host.start()
        let registered = (record.tools.map { "tool \($0)" } + record.hooks.map { "hook \($0)" }).sorted()
        let diagnostics = scenario.host.diagnostics(of: id)

        if check == .hooks, record.hooks.isEmpty {
            _ = scenario.stop(id)
            return CheckOutcome(.skip, "registers no hooks")
        }
        if check == .tools, record.tools.isEmpty {
            _ = scenario.stop(id)
            return CheckOutcome(.skip, "registers no tools")
        }
        let driven: Set<PluginCheck> = [.hooks, .tools, .afterShutdown, .threads, .runs]
        let seen = driven.contains(check) ? scenario.drive(tools: record.tools) : Scenario.Driven()
        let stoppedMs = scenario.stop(id)
        let faults = { (kinds: [PluginDiagnostics.Kind]) in diagnostics?.entries.filter { kinds.contains($0.kind) }.map(\.message) ?? [] }

        switch check {
        case .lifecycle, .reinit:
            if let overrun = scenario.lines.first(where: { $0.contains("callbacks still running after plugins.drainTimeoutMs") }) {
                return CheckOutcome(.fail, overrun, facts: registered)
            }
            let what = registered.isEmpty ? "registered nothing" : "registered \(record.tools.count) tools and \(record.hooks.count) hooks"
            return CheckOutcome(.pass, "init \(what); shutdown returned in \(stoppedMs) ms", facts: registered)
        case .registrations:
            let registrationCalls = ["register_tool:", "register_hook:", "unregister:"]
            let refused = faults([.refusedCall]).filter { message in registrationCalls.contains { message.hasPrefix($0) } }
            if !refused.isEmpty { return CheckOutcome(.fail, Self.list(refused)) }
            return CheckOutcome(.pass, registered.isEmpty ? "registers nothing" : registered.joined(separator: ", "))
        case .hooks:
            let bad = faults([.badHookAnswer, .lateHookAnswer])
            if !bad.isEmpty { return CheckOutcome(.fail, Self.list(bad)) }
            return CheckOutcome(.pass, "answered at every point of a synthetic session" + (seen.problems.isEmpty ? "" : " (\(seen.problems.joined(separator: "; ")))"))
        case .tools:
            let bad = faults([.badToolAnswer]) + seen.problems
            if !bad.isEmpty { return CheckOutcome(.fail, Self.list(bad)) }
            // An error result is a valid answer (arguments from the schema may not satisfy the tool); shown, not failed.
            return CheckOutcome(.pass, "each answered with host-allocated UTF-8: \(seen.answers.joined(separator: ", "))")
        case .afterShutdown:
            usleep(UInt32(Self.graceMs) * 1000)
            let late = faults([.callAfterShutdown])
            if !late.isEmpty { return CheckOutcome(.fail, "called the host after shutdown returned: " + Self.list(late)) }
            return CheckOutcome(.pass, "no call in the \(Self.graceMs) ms after shutdown")
        case .threads:
            let left = Scenario.threadsLeft(since: baseline, withinMs: Self.graceMs)
            if !left.isEmpty {
                return CheckOutcome(.fail, "\(left.count) threads started while it was loaded still run \(Self.graceMs) ms after its shutdown returned: \(left.joined(separator: ", ")); join them in shutdown")
            }
            return CheckOutcome(.pass, "none left")
        case .runs:
            // A run it cancelled in shutdown ends a moment later: give it the grace.
            let deadline = MonotonicClock.milliseconds() + UInt64(Self.graceMs)
            var active = scenario.activeRuns(ownedBy: id)
            while !active.isEmpty, MonotonicClock.milliseconds() < deadline {
                usleep(20_000)
                active = scenario.activeRuns(ownedBy: id)
            }
            if !active.isEmpty {
                return CheckOutcome(.fail, "left \(active.count) runs of its sessions going \(Self.graceMs) ms after its shutdown returned: \(Self.list(active)); cancel them in shutdown")
            }
            return CheckOutcome(.pass, "none left")
        default:
            return CheckOutcome(.skip, "not a check of a running plugin")
        }
    }

    /// At most five items, then how many more.
    static func list(_ items: [String]) -> String {
        items.prefix(5).joined(separator: "; ") + (items.count > 5 ? "; and \(items.count - 5) more" : "")
    }
}

/// The host a dynamic check drives the plugin in, and what it saw.
final class Scenario: Sendable {
    let engine: Engine
    let host: PluginHost
    private let captured = CapturedLines()

    /// The host's and the plugin's log lines, kept for checks that read them (a drain overrun).
    private final class CapturedLines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    init(config: OperatorConfig) throws {
        var config = config
        config.engine.defaultModel = "local/instant"
        // Its sessions run on the local model: no server the config names is contacted.
        config.providers = []
        engine = try config.makeEngine()
        let captured = self.captured
        host = PluginHost(engine: engine, config: config,
                          log: { id, level, message in
                              PluginHost.swiftLogPluginLines(id, level, message)
                              captured.append("[\(id)] \(message)")
                          },
                          hostLog: { line in
                              PluginHost.swiftLogHostLines(line)
                              captured.append(line)
                          },
                          diagnose: true)
    }

    var lines: [String] { captured.all }

    /// What driving the plugin showed beside its diagnostics: runs that timed out in its tools,
    /// and how each tool answered ("ok", or its error result, which is a valid answer).
    struct Driven {
        var problems: [String] = []
        var answers: [String] = []
    }

    /// A synthetic session that passes every hook point (its creation, a tool call, its events),
    /// then one session per tool, each calling it with arguments built from its schema.
    func drive(tools: [String]) -> Driven {
        var driven = Driven()
        let first = "pincer validate: a synthetic session @echo{\"text\":\"validate\"}"
        let sessions = [(first, nil as String?)] + tools.map { name in
            let arguments = engine.tools.tool(named: name).map { Scenario.sampleArguments($0.parameters) } ?? [:]
            return ("@\(name)\(arguments)", name)
        }
        for (message, tool) in sessions {
            let spec = SessionSpec(message: message, model: "local/instant", timeoutSeconds: PluginValidator.runTimeoutSeconds,
                                   label: "pincer-validate")
            // A gate may refuse the session: that is a decision, not a fault.
            guard let (key, runId) = try? engine.spawn(spec, by: .operator) else { continue }
            let run = try? engine.wait(runId: runId, timeoutMs: UInt32(PluginValidator.runTimeoutSeconds + 5) * 1000, by: .operator)
            guard let tool else { continue }
            if run?.status == .timedOut {
                driven.problems.append("\(tool): the run calling it timed out after \(PluginValidator.runTimeoutSeconds) s")
            } else if let answer = try? engine.transcript(sessionKey: key, by: .operator).last(where: { $0.role == .tool && $0.toolName == tool }) {
                driven.answers.append(answer.isError ? "\(tool) (an error result: \(answer.content.prefix(160)))" : "\(tool) (ok)")
            }
        }
        usleep(300_000)  // observers hear the last events on their own lane
        return driven
    }

    /// Stops the plugin alone (the engine goes on); how long that took, in ms.
    func stop(_ id: String) -> UInt64 {
        let started = MonotonicClock.milliseconds()
        host.stop(pluginId: id)
        return MonotonicClock.milliseconds() - started
    }

    func activeRuns(ownedBy id: String) -> [String] {
        engine.sessionSummaries.filter { $0.owner == "plugin \(id)" }.flatMap { session in
            engine.runs(ofSession: session.key).filter { !$0.status.isTerminal }.map { "run \($0.id) of \(session.key) (\($0.status.rawValue))" }
        }
    }

    /// Arguments a schema asks for: each required property with a plain value of its type.
    static func sampleArguments(_ schema: JSON) -> JSON {
        guard let properties = schema["properties"]?.objectValue else { return [:] }
        let required = Set((schema["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        return .object(properties.filter { required.contains($0.0) }.map { name, property in
            switch property["type"]?.stringValue {
            case "integer", "number": return (name, 1)
            case "boolean": return (name, false)
            case "array": return (name, [])
            case "object": return (name, [:])
            default: return (name, "pincer-validate")
            }
        })
    }

    /// This process's threads: id → name (/proc/self/task).
    static func threads() -> [String: String] {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return Dictionary(uniqueKeysWithValues: ids.map { id in
            let name = (try? String(contentsOfFile: "/proc/self/task/\(id)/comm", encoding: .utf8)) ?? "?"
            return (id, name.trimmingCharacters(in: .whitespacesAndNewlines))
        })
    }

    /// Threads not in `baseline` that still run after `withinMs`, as "'name' (tid N)"; the
    /// host's own (HostThreads) are not the plugin's.
    static func threadsLeft(since baseline: [String: String], withinMs: Int) -> [String] {
        let deadline = MonotonicClock.milliseconds() + UInt64(withinMs)
        while true {
            let host = Set(HostThreads.ids.map(String.init))
            let left = threads().filter { baseline[$0.key] == nil && !host.contains($0.key) }
            if left.isEmpty || MonotonicClock.milliseconds() >= deadline {
                return left.sorted { $0.key < $1.key }.map { "'\($0.value)' (tid \($0.key))" }
            }
            usleep(20_000)
        }
    }
}
