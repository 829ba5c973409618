// One Pincer session backed by an external agent: its own agent process,
// started at the session's first turn, initialized (protocol version 1, the
// client capabilities this host really implements: fs read and write, no
// terminal) with one ACP session in the session's own workspace. Each Pincer
// run's user message is one session/prompt; what the agent reports meanwhile
// streams into the run (text) and its record (tool calls, results, plans).
//
// The client side, with policy:
//  - session/request_permission is answered from the session's tool policy
//    (the host's, then the session's), matching "acp:<kind>" — acp:read,
//    acp:edit, acp:execute, … (the ACP tool call's kind; "acp:other" when it
//    has none) — then the plugins' before_tool_call gates (which may block,
//    never rewrite): allow once, or reject; never allow-always. A stopping
//    run answers every permission request "cancelled".
//  - fs/read_text_file and fs/write_text_file only inside the workspace: the
//    path must be absolute and, symlinks resolved, lie below it (".." and a
//    link out are refused with -32002).
//  - terminal/* only when the operator enabled it for the agent
//    (acp.agents.<name>.terminal), and only while the policy allows
//    "acp:execute": the command runs in the workspace, its output kept within a
//    limit; cancel, timeout, delete and host stop kill it (AgentTerminal).

import Foundation
import PincerCore
import Synchronization

final class ACPAgentSession: ACPPeer, @unchecked Sendable {  // `connection` is set once in start(); the turn is in a Mutex
    let agent: ACPAgentSettings
    let workspace: String
    let hostLog: @Sendable (String) -> Void
    private(set) var connection: ACPConnection!
    private(set) var sessionId = ""

    /// The turn in progress: where updates and permission questions go.
    private struct Turn {
        var context: TurnContext
        var session: TurnSession
        var text = ""
        var stopping = false
    }

    private let turn = Mutex<Turn?>(nil)

    init(agent: ACPAgentSettings, workspace: String, log: @escaping @Sendable (String) -> Void) {
        self.agent = agent
        self.workspace = workspace
        hostLog = log
    }

    /// Where the session's workspace remembers its ACP session across host restarts.
    var markerPath: String { workspace + "/.pincer-acp-session.json" }

    /// Starts the agent: process, initialize, then session/new — or, when the workspace
    /// remembers an ACP session of this agent from before a host restart, session/load of it
    /// (refused, naming why, when the agent cannot load sessions). Gives up when `stop` says so.
    func start(stop: () -> Bool) throws(ACPError) {
        let process: AgentProcess
        do {
            process = try AgentProcess.start(executable: agent.command, arguments: agent.arguments, directory: workspace, environment: agent.environment)
        } catch {
            throw ACPError(ACPError.internalError, "acp.agents.\(agent.name).command: \(error.description)")
        }
        connection = ACPConnection(process: process, peer: self)
        let initialized = try connection.request("initialize", .object([
            ("protocolVersion", 1),
            ("clientCapabilities", .object([("fs", .object([("readTextFile", true), ("writeTextFile", true)])), ("terminal", .bool(agent.terminal))])),
            ("clientInfo", .object([("name", "pincer"), ("version", .string(agent.hostVersion))])),
        ]), timeoutMs: agent.startTimeoutMs, stop: stop)
        guard initialized["protocolVersion"]?.wholeNumber == 1 else {
            close()
            throw ACPError(ACPError.internalError, "agent '\(agent.name)' speaks ACP protocol version \(initialized["protocolVersion"] ?? .null); this host speaks 1")
        }
        if let remembered = rememberedSession() {
            guard initialized["agentCapabilities"]?["loadSession"]?.boolValue == true else {
                close()
                throw ACPError(ACPError.internalError, "its session \(remembered) from before the host restarted cannot be resumed: agent '\(agent.name)' does not support session/load; the session stays readable")
            }
            sessionId = remembered  // its replayed history comes as updates outside any turn: not re-recorded
            _ = try connection.request("session/load", .object([("sessionId", .string(remembered)), ("cwd", .string(workspace)), ("mcpServers", .array([]))]),
                                       timeoutMs: agent.startTimeoutMs, stop: stop)
            hostLog("agent '\(agent.name)': resumed its session \(remembered) (session/load)")
            return
        }
        let created = try connection.request("session/new", .object([("cwd", .string(workspace)), ("mcpServers", .array([]))]),
                                             timeoutMs: agent.startTimeoutMs, stop: stop)
        guard let id = created["sessionId"]?.stringValue else {
            close()
            throw ACPError(ACPError.internalError, "agent '\(agent.name)' answered session/new without a sessionId")
        }
        sessionId = id
        let marker = JSON.object([("agent", .string(agent.name)), ("sessionId", .string(id))]).description
        try? marker.write(toFile: markerPath, atomically: true, encoding: .utf8)
    }

    /// The ACP session this workspace remembers for this agent, if any.
    private func rememberedSession() -> String? {
        guard let text = try? String(contentsOfFile: markerPath, encoding: .utf8), let marker = try? JSON.parse(text),
              marker["agent"]?.stringValue == agent.name else { return nil }
        return marker["sessionId"]?.stringValue
    }

    /// One turn: the prompt, and what the agent says until it answers. The reply's text.
    func prompt(_ text: String, session: TurnSession, context: TurnContext) throws -> String {
        turn.withLock { $0 = Turn(context: context, session: session) }
        defer { turn.withLock { $0 = nil } }
        let stopping = Atomic<Bool>(false)
        let connection = self.connection!
        let withdraw = context.onStop {
            stopping.store(true, ordering: .relaxed)
            connection.wake()
        }
        defer { withdraw() }
        let deadline = context.deadlineNs
        let answer: JSON
        do {
            // A stop that came before the observer was registered is seen by pause(0) too.
            answer = try connection.request(
                "session/prompt", .object([("sessionId", .string(sessionId)), ("prompt", .array([.object([("type", "text"), ("text", .string(text))])]))]),
                // The run's deadline ends it through stop(); the request's own bound only backs that up.
                timeoutMs: Int(min(UInt64(Int32.max), (deadline &- MonotonicClock.nanoseconds()) / 1_000_000 + 5000)),
                stop: { stopping.load(ordering: .relaxed) || Self.mustStop(context) },
                stopped: {
                    // Asked to stop, or out of time: pending permissions answer "cancelled", the agent is
                    // told, its terminals end, and its own "cancelled" is awaited a moment, so nothing
                    // of this turn leaks into the next.
                    turn.withLock { $0?.stopping = true }
                    try? connection.notify("session/cancel", .object([("sessionId", .string(sessionId))]))
                    killTerminals()
                },
                stopGraceMs: 2000)
        } catch {
            if error.code == ACPError.cancelled { try context.pause(0) }  // throws the run's stop
            throw ModelFailure("agent '\(agent.name)': \(error.message)")
        }
        let reply = turn.withLock { $0?.text ?? "" }
        switch answer["stopReason"]?.stringValue {
        case "end_turn"?, "max_tokens"?, "max_turn_requests"?: return reply
        case "refusal"?: return reply.isEmpty ? "(the agent refused the request)" : reply
        case "cancelled"?:
            try context.pause(0)
            throw ModelFailure("agent '\(agent.name)' cancelled its turn by itself")
        default: throw ModelFailure("agent '\(agent.name)' ended its turn with stopReason \(answer["stopReason"] ?? .null)")
        }
    }

    /// Whether the run must end now (cancelled, timed out, the host stopping).
    static func mustStop(_ context: TurnContext) -> Bool { (try? context.pause(0)) == nil }

    /// Ends the agent: stdin closed, the process group terminated and reaped.
    func close() {
        closing.store(true, ordering: .relaxed)
        killTerminals()
        connection?.process.terminateGroup()
    }

    /// Set when the host ends the agent itself: its exit is then no news for the log.
    private let closing = Atomic<Bool>(false)

    // MARK: - ACPPeer

    func serve(method: String, params: JSON) throws(ACPError) -> JSON {
        switch method {
        case "session/request_permission": return permission(params)
        case "fs/read_text_file":
            let path = try confined(params["path"], forWriting: false)
            guard let data = FileManager.default.contents(atPath: path) else { throw ACPError(ACPError.resourceNotFound, "cannot read \(path)") }
            guard data.count <= ACPConnection.maxLineBytes / 2 else { throw ACPError(ACPError.invalidParams, "\(path) is over \(ACPConnection.maxLineBytes / 2) bytes") }
            var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            if let line = params["line"]?.wholeNumber, line > 1 { lines = Array(lines.dropFirst(line - 1)) }
            if let limit = params["limit"]?.wholeNumber, limit >= 0 { lines = Array(lines.prefix(limit)) }
            return .object([("content", .string(lines.joined(separator: "\n")))])
        case "fs/write_text_file":
            let path = try confined(params["path"], forWriting: true)
            guard let content = params["content"]?.stringValue else { throw ACPError(ACPError.invalidParams, "fs/write_text_file needs the string content") }
            guard FileManager.default.createFile(atPath: path, contents: Data(content.utf8)) else {
                throw ACPError(ACPError.internalError, "cannot write \(path)")
            }
            return .null
        case let method where method.hasPrefix("terminal/"):
            guard agent.terminal else {
                throw ACPError(ACPError.methodNotFound, "this host offers agent '\(agent.name)' no terminal (acp.agents.\(agent.name).terminal is not true)")
            }
            return try terminal(method, params)
        default:
            throw ACPError(ACPError.methodNotFound, "the host does not serve \(method)")
        }
    }

    // MARK: - Terminals

    private let terminals = Mutex<[String: AgentTerminal]>([:])
    private let nextTerminal = Atomic<Int>(1)

    private func terminal(_ method: String, _ params: JSON) throws(ACPError) -> JSON {
        if method == "terminal/create" { return try createTerminal(params) }
        guard let id = params["terminalId"]?.stringValue, let terminal = terminals.withLock({ $0[id] }) else {
            throw ACPError(ACPError.resourceNotFound, "no terminal \(params["terminalId"] ?? .null)")
        }
        switch method {
        case "terminal/output": return terminal.output
        case "terminal/wait_for_exit":
            return try terminal.waitForExit(stop: { turn.withLock { $0?.stopping ?? true } || (turn.withLock { $0 }.map { Self.mustStop($0.context) } ?? false) })
        case "terminal/kill":
            terminal.kill()
            return .null
        case "terminal/release":
            terminals.withLock { _ = $0.removeValue(forKey: id) }
            terminal.kill()
            return .null
        default: throw ACPError(ACPError.methodNotFound, "the host does not serve \(method)")
        }
    }

    private func createTerminal(_ params: JSON) throws(ACPError) -> JSON {
        guard let current = turn.withLock({ $0 }), !current.stopping else { throw ACPError(ACPError.cancelled, "no turn is under way") }
        if let refusal = current.session.toolRefusal("acp:execute") { throw ACPError(ACPError.internalError, "terminal/create refused: \(refusal)") }
        guard let command = params["command"]?.stringValue, !command.isEmpty else { throw ACPError(ACPError.invalidParams, "terminal/create needs the string command") }
        let executable = command.contains("/") ? command : Self.search(command)
        guard let executable else { throw ACPError(ACPError.resourceNotFound, "terminal/create: no command '\(command)' on PATH") }
        var directory = workspace
        if let cwd = params["cwd"], cwd != .null { directory = try confined(cwd, forWriting: false) }
        var environment: [String: String] = [:]
        for variable in params["env"]?.arrayValue ?? [] {
            if let name = variable["name"]?.stringValue, let value = variable["value"]?.stringValue { environment[name] = value }
        }
        let limit = min(agent.terminalOutputBytes, params["outputByteLimit"]?.wholeNumber ?? agent.terminalOutputBytes)
        let id = "term-\(nextTerminal.add(1, ordering: .relaxed).oldValue)"
        let terminal = try AgentTerminal(id: id, command: executable, arguments: (params["args"]?.arrayValue ?? []).compactMap(\.stringValue),
                                         environment: environment, directory: directory, outputLimit: max(0, limit))
        terminals.withLock { $0[id] = terminal }
        return .object([("terminalId", .string(id))])
    }

    /// The first executable named `command` on PATH.
    static func search(_ command: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(command)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Every command the agent started through the terminal ends (the turn stopped, the session ends).
    private func killTerminals() {
        for terminal in terminals.withLock({ $0.values }) { terminal.kill() }
    }

    func notified(method: String, params: JSON) {
        guard method == "session/update", params["sessionId"]?.stringValue == sessionId, let update = params["update"],
              let kind = update["sessionUpdate"]?.stringValue else { return }
        guard let current = turn.withLock({ $0 }) else { return }  // between turns (a late update): not part of any run
        let context = current.context
        switch kind {
        case "agent_message_chunk":
            guard let text = update["content"]?["text"]?.stringValue, !text.isEmpty else { return }
            turn.withLock { $0?.text += text }
            try? context.emit(text)
        case "tool_call":
            context.record(.toolCall, .object([("id", update["toolCallId"] ?? .null), ("name", .string(Self.toolName(update))),
                                               ("title", update["title"] ?? .null), ("status", update["status"] ?? "pending")]))
        case "tool_call_update":
            guard let status = update["status"]?.stringValue, status == "completed" || status == "failed" else { return }
            let content = (update["content"]?.arrayValue ?? []).compactMap { $0["content"]?["text"]?.stringValue }.joined(separator: "\n")
            context.record(.toolResult, .object([("id", update["toolCallId"] ?? .null), ("name", .string(Self.toolName(update))),
                                                 ("isError", .bool(status == "failed")), ("content", .string(String(content.prefix(500))))]))
        case "agent_thought_chunk", "plan", "current_mode_update", "usage_update":
            context.record(.agentUpdate, .object([("update", .string(kind)), ("detail", update)]))
        default:
            return  // unknown kinds and fields are ignored, never fatal
        }
    }

    func log(_ line: String) { hostLog("agent '\(agent.name)' (session \(sessionId)): \(line)") }

    func ended(_ reason: String) {
        if !closing.load(ordering: .relaxed) { hostLog("agent '\(agent.name)' (session \(sessionId)): \(reason)") }
        connection?.wake()
    }

    // MARK: - Policy

    /// The policy name of an ACP tool call: "acp:<kind>".
    static func toolName(_ toolCall: JSON) -> String { "acp:\(toolCall["kind"]?.stringValue ?? "other")" }

    private func permission(_ params: JSON) -> JSON {
        let options = params["options"]?.arrayValue ?? []
        let name = Self.toolName(params["toolCall"] ?? .null)
        let current = turn.withLock { $0 }
        func choose(_ kinds: [String]) -> JSON? {
            for kind in kinds {
                if let option = options.first(where: { $0["kind"]?.stringValue == kind }), let id = option["optionId"] {
                    return .object([("outcome", .object([("outcome", "selected"), ("optionId", id)]))])
                }
            }
            return nil
        }
        let cancelled: JSON = .object([("outcome", .object([("outcome", "cancelled")]))])
        guard let current, !current.stopping else { return cancelled }
        let toolCall = params["toolCall"] ?? .null
        // The policy first, then the plugins' before_tool_call gates (which may block, never rewrite).
        let refusal = current.session.toolRefusal(name)
            ?? current.session.toolGate(name, toolCall["toolCallId"]?.stringValue ?? "", toolCall["rawInput"] ?? .object([]), workspace)
        current.context.record(.hook, .object([("point", "acp_permission"), ("decision", .string(refusal == nil ? "allowed" : "blocked")),
                                               ("tool", .string(name)), ("plugin", "host"), ("reason", JSON(refusal))]))
        // Allowed: once, never always. Refused: once if the agent offers it, else always.
        return (refusal == nil ? choose(["allow_once"]) : choose(["reject_once", "reject_always"])) ?? cancelled
    }

    /// The real path of `value` when it lies inside the workspace; else -32002 naming both.
    private func confined(_ value: JSON?, forWriting: Bool) throws(ACPError) -> String {
        guard let path = value?.stringValue, path.hasPrefix("/") else { throw ACPError(ACPError.invalidParams, "path must be an absolute path, not \(value ?? .null)") }
        let standardized = (path as NSString).standardizingPath
        var resolved: String
        if forWriting, !FileManager.default.fileExists(atPath: standardized) {
            resolved = Self.realPath((standardized as NSString).deletingLastPathComponent) + "/" + (standardized as NSString).lastPathComponent
        } else {
            resolved = Self.realPath(standardized)
        }
        if resolved.hasPrefix("//") { resolved.removeFirst() }
        guard resolved.hasPrefix(workspace + "/") || (!forWriting && resolved == workspace) else {
            throw ACPError(ACPError.resourceNotFound, "\(path) is outside the session's workspace \(workspace)")
        }
        return resolved
    }

    /// Symlinks resolved; a path that does not exist stays as given (the prefix check then decides).
    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
