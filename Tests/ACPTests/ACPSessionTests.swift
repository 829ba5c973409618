// Sessions backed by external agents over ACP, against real agents in
// processes of their own: the official ACP Python SDK's echo agent and our
// test agent on the same SDK (Tests/ACP/test_agent.py; both set up in
// build/venv and build/acp-sdk by scripts/python-peers). Each test builds an
// engine from an operator config naming them, as `pincer` does.

import Foundation
import PincerCore
import PincerHost
import PincerStore
import Testing

/// An engine whose config names the two agents; every agent it starts carries a marker in its
/// environment, so a test can tell whether any of its processes is still alive.
final class AgentHost: @unchecked Sendable {  // set up once; the engine is thread-safe
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let python = "\(repo)/build/venv/bin/python"

    let engine: Engine
    let workspace: String
    let marker: String
    let logs = LogLines()

    /// `workspace` and `store`: another host's, to play a restart of it.
    init(extra: String = "", workspace: String? = nil, store: String? = nil, marker: String? = nil) throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python), "no \(Self.python): run scripts/python-peers (scripts/test does)")
        self.workspace = workspace ?? NSTemporaryDirectory() + "pincer-acp-ws-\(UUID().uuidString)"
        self.marker = marker ?? "pincer-acp-test-\(UUID().uuidString)"
        let workspace = self.workspace
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        let state = workspace + "/agent-state"
        let env = #"{"PINCER_TEST_MARKER": "\#(self.marker)", "ACP_TEST_AGENT_STATE": "\#(state)"}"#
        let config = try OperatorConfig.parse("""
            {"acp": {"agents": {
                "echo": {"command": "\(Self.python)", "args": ["\(Self.repo)/build/acp-sdk/examples/echo_agent.py"], "env": \(env)},
                "test": {"command": "\(Self.python)", "args": ["\(Self.repo)/Tests/ACP/test_agent.py"], "env": \(env)},
                "shell": {"command": "\(Self.python)", "args": ["\(Self.repo)/Tests/ACP/test_agent.py"], "env": \(env),
                          "terminal": true, "terminalOutputBytes": 4096}},
              "maxConcurrentAgents": 3},
             "engine": {"workspaceDir": "\(workspace)"}\(extra)}
            """, source: "test")
        engine = try config.makeEngine(store: try store.map { try SQLiteStore(path: $0) })
        let logs = self.logs
        engine.setLog { logs.append($0) }
    }

    /// Spawns a session on `agent` as `caller` and waits for its first run.
    func start(_ agent: String, _ message: String, by caller: Caller = .operator, policy: ToolPolicy = ToolPolicy(),
               timeoutSeconds: Int? = nil) throws -> (key: String, run: RunSnapshot) {
        let started = try engine.spawn(SessionSpec(message: message, toolPolicy: policy, model: "acp/\(agent)", timeoutSeconds: timeoutSeconds), by: caller)
        return (started.sessionKey, try engine.wait(runId: started.runId, timeoutMs: 30_000, by: caller))
    }

    func prompt(_ key: String, _ text: String) throws -> RunSnapshot {
        let runId = try engine.prompt(sessionKey: key, text: text, by: .operator)
        return try engine.wait(runId: runId, timeoutMs: 30_000, by: .operator)
    }

    /// The session's workspace: <engine.workspaceDir>/acp/<session id>.
    func workspace(of key: String) throws -> String {
        let id = try #require(try JSON.parse(engine.sessionJSON(sessionKey: key, for: .operator))["id"]?.stringValue)
        return "\(workspace)/acp/\(id)"
    }

    func eventKinds(_ runId: String) throws -> [String] {
        try engine.events(ofRun: runId, by: .operator).map { event in
            event.kind == .agentUpdate ? "agent_update:\(event.detail["update"]?.stringValue ?? "?")" : event.kind.rawValue
        }
    }

    /// Processes of this host's agents still alive (their environment carries the marker).
    var livingAgents: [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return environ.range(of: Data(marker.utf8)) != nil
        }
    }

    func close() {
        engine.shutdown()
        try? FileManager.default.removeItem(atPath: workspace)
    }
}

final class LogLines: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    func contains(_ part: String) -> Bool { lock.withLock { lines.contains { $0.contains(part) } } }
    var all: String { lock.withLock { lines.joined(separator: "\n") } }
}

@Suite(.serialized) struct ACPSessionTests {
    @Test func theSDKsEchoAgentAnswersAndAFollowUpContinuesTheSameAgent() throws {
        let host = try AgentHost()
        defer { host.close() }
        let (key, first) = try host.start("echo", "Hello, agent!")
        #expect(first.status == .completed, "\(first.error ?? "")")
        #expect(first.finalText == "Hello, agent!")
        let pids = host.livingAgents
        #expect(pids.count == 1, "one agent process for the session: \(pids)")
        let second = try host.prompt(key, "And again")
        #expect(second.finalText == "And again")
        #expect(host.livingAgents == pids, "the follow-up went to the same agent process")
        let transcript = try host.engine.transcript(sessionKey: key, by: .operator)
        #expect(transcript.map(\.content) == ["Hello, agent!", "Hello, agent!", "And again", "And again"])
        try host.engine.deleteSession(key, by: .operator)
        #expect(host.livingAgents.isEmpty, "deleting the session ended its agent")
    }

    @Test func updatesStreamIntoTheRunsRecordAndUnknownKindsAreIgnored() throws {
        let host = try AgentHost()
        defer { host.close() }
        let (key, planned) = try host.start("test", "plan the work")
        #expect(planned.status == .completed, "\(planned.error ?? "")")
        let kinds = try host.eventKinds(planned.id)
        #expect(kinds.contains("agent_update:plan") && kinds.contains("agent_update:agent_thought_chunk"), "\(kinds)")
        let usage = try host.prompt(key, "usage please")
        #expect(usage.status == .completed, "an unknown update kind is ignored, never fatal: \(usage.error ?? "")")
        #expect(try host.eventKinds(usage.id).contains("agent_update:usage_update"))
    }

    @Test func permissionsFollowTheSessionsToolPolicyAsAcpKinds() throws {
        let host = try AgentHost()
        defer { host.close() }
        let (allowedKey, _) = try host.start("test", "hello")
        try "the notes".write(toFile: try host.workspace(of: allowedKey) + "/notes.txt", atomically: true, encoding: .utf8)
        let read = try host.prompt(allowedKey, "read notes.txt")
        #expect(read.status == .completed)
        #expect(read.finalText?.contains("read: the notes") == true, "\(read.finalText ?? "") \(read.error ?? "")")
        let events = try host.engine.events(ofRun: read.id, by: .operator)
        #expect(events.contains { $0.kind == .toolCall && $0.detail["name"] == "acp:read" })
        #expect(events.contains { $0.kind == .hook && $0.detail["decision"] == "allowed" && $0.detail["tool"] == "acp:read" })

        let (deniedKey, _) = try host.start("test", "hello", policy: ToolPolicy(deny: ["acp:read"]))
        try "secret".write(toFile: try host.workspace(of: deniedKey) + "/notes.txt", atomically: true, encoding: .utf8)
        let refused = try host.prompt(deniedKey, "read notes.txt")
        #expect(refused.finalText?.contains("secret") != true, "a denied read never happened: \(refused.finalText ?? "")")
        #expect(try host.engine.events(ofRun: refused.id, by: .operator).contains { $0.kind == .hook && $0.detail["decision"] == "blocked" })
    }

    @Test func filesStayInsideTheSessionsWorkspace() throws {
        let host = try AgentHost()
        defer { host.close() }
        let (key, _) = try host.start("test", "hello")
        let workspace = try host.workspace(of: key)
        let wrote = try host.prompt(key, "write out.txt written by the agent")
        #expect(wrote.status == .completed, "\(wrote.error ?? "")")
        #expect((try? String(contentsOfFile: workspace + "/out.txt", encoding: .utf8)) == "written by the agent")
        let outside = try host.prompt(key, "readabs /etc/hostname")
        #expect(outside.finalText?.contains("read failed: -32002") == true, "\(outside.finalText ?? "")")
        try FileManager.default.createSymbolicLink(atPath: workspace + "/escape", withDestinationPath: "/etc")
        let viaLink = try host.prompt(key, "readabs \(workspace)/escape/hostname")
        #expect(viaLink.finalText?.contains("read failed: -32002") == true, "a symlink out of the workspace: \(viaLink.finalText ?? "")")
        let climbing = try host.prompt(key, "readabs \(workspace)/../../etc/hostname")
        #expect(climbing.finalText?.contains("read failed: -32002") == true, "'..' out of the workspace: \(climbing.finalText ?? "")")
        let terminal = try host.prompt(key, "terminal echo hi")
        #expect(terminal.finalText?.contains("terminal refused") == true, "\(terminal.finalText ?? "")")
    }

    @Test func aTerminalRunsOnlyWhereTheOperatorEnabledItAndEndsWithTheTurn() throws {
        let host = try AgentHost()
        defer { host.close() }
        let (key, _) = try host.start("shell", "hello")
        let echoed = try host.prompt(key, "terminal echo hi there")
        #expect(echoed.finalText?.contains("terminal (exit 0): hi there") == true, "\(echoed.finalText ?? "") \(echoed.error ?? "")")
        let long = try host.prompt(key, "terminal head -c 10000 /dev/zero")
        #expect(long.finalText?.contains("(truncated)") == true, "output past acp.agents.shell.terminalOutputBytes is cut: \(long.finalText?.prefix(80) ?? "")")
        let (_, denied) = try host.start("shell", "terminal echo hi", policy: ToolPolicy(deny: ["acp:execute"]))
        #expect(denied.finalText?.contains("terminal refused") == true, "\(denied.finalText ?? "")")
        #expect(denied.finalText?.contains("acp:execute") == true, "the refusal names the policy: \(denied.finalText ?? "")")
        // A command still running when its turn is cancelled ends with it.
        let sleeping = try host.engine.prompt(sessionKey: key, text: "terminal sleep 31.5", by: .operator)
        let deadline = Date().addingTimeInterval(10)
        while Self.processes(named: "31.5").isEmpty, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!Self.processes(named: "31.5").isEmpty, "the command started")
        try host.engine.cancelRun(sleeping, by: .operator)
        #expect(try host.engine.wait(runId: sleeping, timeoutMs: 10_000, by: .operator).status == .cancelled)
        let gone = Date().addingTimeInterval(5)
        while !Self.processes(named: "31.5").isEmpty, Date() < gone { Thread.sleep(forTimeInterval: 0.05) }
        #expect(Self.processes(named: "31.5").isEmpty, "the terminal's command outlived the cancel")
        // Where the operator did not enable it, the agent gets no terminal.
        let (_, plain) = try host.start("test", "terminal echo hi")
        #expect(plain.finalText?.contains("terminal refused") == true, "\(plain.finalText ?? "")")
    }

    /// Processes whose command line holds `part`.
    static func processes(named part: String) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { pid in
            guard let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: command.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains("sleep \(part)")
        }
    }

    @Test func cancelAndTimeoutStopTheTurnAndTheAgentGoesOn() throws {
        let host = try AgentHost()
        defer { host.close() }
        let (key, _) = try host.start("test", "hello")
        let slow = try host.engine.prompt(sessionKey: key, text: "slow", by: .operator)
        Thread.sleep(forTimeInterval: 0.6)
        try host.engine.cancelRun(slow, by: .operator)
        let cancelled = try host.engine.wait(runId: slow, timeoutMs: 10_000, by: .operator)
        #expect(cancelled.status == .cancelled, "\(cancelled.status) \(cancelled.error ?? "")")
        #expect(try host.prompt(key, "hello again").finalText?.contains("You said: hello again") == true, "the agent session goes on after a cancel")
        let (_, timedOut) = try host.start("test", "slow", timeoutSeconds: 1)
        #expect(timedOut.status == .timedOut, "\(timedOut.status)")
    }

    @Test func aSteerDuringATurnIsTheNextPromptWhenTheTurnEnds() throws {
        let host = try AgentHost()
        defer { host.close() }
        let (key, _) = try host.start("test", "hello")
        let runId = try host.engine.prompt(sessionKey: key, text: "pause 800", by: .operator)
        let deadline = Date().addingTimeInterval(5)
        var streaming = false
        while !streaming, Date() < deadline {
            streaming = (try? JSON.parse(host.engine.sessionJSON(sessionKey: key, for: .operator))["state"]?.stringValue) == "streaming"
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(streaming, "is_streaming's state: a turn in progress")
        #expect(try host.engine.steer(sessionKey: key, text: "steered in", by: .operator) == .queued)
        let run = try host.engine.wait(runId: runId, timeoutMs: 20_000, by: .operator)
        #expect(run.status == .completed, "\(run.error ?? "")")
        #expect(run.finalText?.contains("You said: steered in") == true, "the steer was the next prompt: \(run.finalText ?? "") \((try? host.engine.transcript(sessionKey: key, by: .operator).map { "\($0.role): \($0.content)" }) ?? [])")
    }

    @Test func aCrashOrGarbageFailsTheRunClearlyAndLeavesTheSessionReadable() throws {
        let host = try AgentHost()
        defer { host.close() }
        let (crashKey, crashed) = try host.start("test", "crash")
        #expect(crashed.status == .failed)
        #expect(crashed.error?.contains("exited with status 3") == true, "\(crashed.error ?? "")")
        let again = try host.prompt(crashKey, "hello")
        #expect(again.status == .failed)
        #expect(again.error?.contains("cannot continue") == true, "\(again.error ?? "")")
        #expect(try host.engine.transcript(sessionKey: crashKey, by: .operator).count >= 2, "the session stays readable")
        let (_, garbled) = try host.start("test", "garbage")
        #expect(garbled.status == .failed)
        #expect(garbled.error?.contains("not a JSON-RPC message") == true, "\(garbled.error ?? "")")
        #expect(host.logs.contains("test_agent"), "the agent's stderr reaches the host's log: \(host.logs.all)")
    }

    @Test func pluginsUseAgentsOnlyWhileTheOperatorAllowsItCheckedAtEveryCall() throws {
        let host = try AgentHost(extra: #", "plugins": {"entries": {"p": {"sessionAccess": "own"}, "q": {"allowAcpSpawn": false}}}"#)
        defer { host.close() }
        let off = #expect(throws: EngineError.self) { _ = try host.start("echo", "hi", by: .plugin("p")) }
        #expect(off?.kind == .denied)
        #expect(off?.message.contains("set plugins.allowAcpSpawn = true") == true, "\(off?.message ?? "")")
        host.engine.access.externalAgents.update(allowed: true, deniedPlugins: ["q"])
        let (key, run) = try host.start("echo", "hi", by: .plugin("p"))
        #expect(run.status == .completed)
        let narrowed = #expect(throws: EngineError.self) { _ = try host.start("echo", "hi", by: .plugin("q")) }
        #expect(narrowed?.message.contains("plugins.entries.q.allowAcpSpawn is false") == true, "\(narrowed?.message ?? "")")
        // Turned off again (as SIGHUP would): the plugin's next call on its own agent session is refused.
        host.engine.access.externalAgents.update(allowed: false, deniedPlugins: [])
        #expect(throws: EngineError.self) { _ = try host.engine.prompt(sessionKey: key, text: "more", by: .plugin("p")) }
        #expect(throws: EngineError.self) { _ = try host.engine.transcript(sessionKey: key, by: .plugin("p")) }
        #expect(try host.engine.transcript(sessionKey: key, by: .operator).count == 2, "the operator is not a plugin: unaffected")
    }

    @Test func afterAHostRestartAnAgentThatCanLoadSessionsResumesAndOneThatCannotSaysSo() throws {
        let workspace = NSTemporaryDirectory() + "pincer-acp-restart-\(UUID().uuidString)"
        let store = workspace + ".sqlite"
        defer {
            try? FileManager.default.removeItem(atPath: workspace)
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store + suffix) }
        }
        let first = try AgentHost(workspace: workspace, store: store)
        let (loadable, _) = try first.start("test", "hello")
        let (echoed, _) = try first.start("echo", "hello")
        first.engine.shutdown()
        #expect(first.livingAgents.isEmpty)

        let second = try AgentHost(workspace: workspace, store: store, marker: first.marker)
        defer { second.engine.shutdown() }
        let resumed = try second.prompt(loadable, "hello again")
        #expect(resumed.status == .completed, "\(resumed.error ?? "")")
        #expect(resumed.finalText?.contains("You said: hello again") == true)
        #expect(second.logs.contains("resumed its session"), "\(second.logs.all)")
        let refused = try second.prompt(echoed, "hello again")
        #expect(refused.status == .failed)
        #expect(refused.error?.contains("does not support session/load") == true, "\(refused.error ?? "")")
        #expect(try second.engine.transcript(sessionKey: echoed, by: .operator).count >= 2, "the session stays readable")
    }

    /// A host killed with SIGKILL: the kernel ends its agents (the death signal the spawner's shim sets).
    @Test func aHostKilledWithSIGKILLTakesItsAgentsAlong() throws {
        let host = try AgentHost()
        defer { host.close() }
        let configPath = host.workspace + "/config.json"
        let env = #"{"PINCER_TEST_MARKER": "\#(host.marker)", "ACP_TEST_AGENT_STATE": "\#(host.workspace)/state"}"#
        try """
            {"acp": {"agents": {"test": {"command": "\(AgentHost.python)", "args": ["\(AgentHost.repo)/Tests/ACP/test_agent.py"], "env": \(env)}}},
             "engine": {"workspaceDir": "\(host.workspace)"}}
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let pincer = Process()
        pincer.executableURL = URL(fileURLWithPath: "\(AgentHost.repo)/.build/debug/pincer")
        pincer.arguments = ["run", "--no-store", "--config", configPath, "--agent", "test", "slow"]
        pincer.standardOutput = FileHandle.nullDevice
        pincer.standardError = FileHandle.nullDevice
        try pincer.run()
        let deadline = Date().addingTimeInterval(10)
        while host.livingAgents.isEmpty, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!host.livingAgents.isEmpty, "the agent started")
        kill(pincer.processIdentifier, SIGKILL)
        pincer.waitUntilExit()
        let gone = Date().addingTimeInterval(5)
        while !host.livingAgents.isEmpty, Date() < gone { Thread.sleep(forTimeInterval: 0.05) }
        #expect(host.livingAgents.isEmpty, "agents left after SIGKILL: \(host.livingAgents)")
    }

    @Test func noAgentProcessOutlivesTheHost() throws {
        let host = try AgentHost()
        _ = try host.start("echo", "one")
        _ = try host.start("test", "two")
        #expect(host.livingAgents.count == 2)
        let slow = try host.engine.spawn(SessionSpec(message: "slow", model: "acp/test"), by: .operator)
        Thread.sleep(forTimeInterval: 0.4)
        host.engine.shutdown()
        #expect(try host.engine.wait(runId: slow.runId, timeoutMs: 1000, by: .operator).status == .interrupted)
        #expect(host.livingAgents.isEmpty, "after shutdown: \(host.livingAgents)")
        try? FileManager.default.removeItem(atPath: host.workspace)
    }
}
