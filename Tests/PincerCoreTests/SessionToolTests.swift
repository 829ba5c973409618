// The session tools a model may call — sessions_spawn, sessions_steer,
// gateway: a child's policy only narrows its parent's, a spawned session may
// use them only when its own allow list names them, a plugin's session cannot
// spawn past the guards, the operator's sessions' children are bounded too,
// and the parent link survives a restart.

import Foundation
@testable import PincerCore
import PincerStore
import Testing

@Suite struct SessionToolTests {
    /// Runs a session to its end; answers its key and its tool results by tool name.
    private func run(_ e: Engine, _ message: String, policy: ToolPolicy = ToolPolicy(),
                     by caller: Caller = .operator) throws -> (key: String, results: [String: Message])
    {
        let started = try e.spawn(SessionSpec(message: message, toolPolicy: policy), by: caller)
        let info = try e.wait(runId: started.runId, timeoutMs: 10_000, by: .operator)
        #expect(info.status == .completed, "\(info.error ?? "")")
        let tools = try e.transcript(sessionKey: started.sessionKey, by: .operator).filter { $0.role == .tool }
        return (started.sessionKey, Dictionary(tools.map { ($0.toolName!, $0) }, uniquingKeysWith: { _, last in last }))
    }

    private func child(_ e: Engine, of result: Message?) throws -> (key: String, runId: String) {
        let answer = try JSON.parse(try #require(result?.content))
        return (try #require(answer["sessionKey"]?.stringValue), try #require(answer["runId"]?.stringValue))
    }

    @Test func aChildIsHeldToItsParentsPolicy() throws {
        let e = try Engine.quick()
        defer { e.shutdown() }
        let parent = try run(e, #"@sessions_spawn{"message":"@clock @echo{\"text\":\"from the child\"}","toolsAllow":["echo","clock","sessions_spawn"]}"#,
                             policy: ToolPolicy(allow: ["echo", "sessions_spawn"]))
        let spawned = try #require(parent.results["sessions_spawn"])
        #expect(!spawned.isError, "\(spawned.content)")
        let child = try child(e, of: spawned)
        #expect(try e.wait(runId: child.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        let results = try e.transcript(sessionKey: child.key, by: .operator).filter { $0.role == .tool }
        // The child allowed clock itself; its parent did not.
        #expect(results.first { $0.toolName == "clock" }?.content == "tool 'clock' is not in an allow list the session inherited (a parent session's, or a hook's) (echo, sessions_spawn)")
        #expect(results.first { $0.toolName == "echo" }?.content == "from the child")
        let description = try JSON.parse(try e.sessionJSON(sessionKey: child.key, for: .operator))
        #expect(description["parentKey"]?.stringValue == parent.key)
        #expect(description["owner"]?.stringValue == "operator")
        #expect(description["toolPolicy"]?["inherited"] == [["allow": ["echo", "sessions_spawn"], "deny": []]])
    }

    @Test func aHookPatchingAChildsAllowListCannotLiftItsParentsPolicy() throws {
        let e = try Engine.quick()
        defer { e.shutdown() }
        e.hooks.register(Hook(plugin: "policy", point: .beforeSessionCreate, priority: 0, deadlineMs: 1000, seesAllSessions: true) { event in
            event.payload["parentSessionKey"] == .null ? .proceed(patch: nil) : .proceed(patch: ["toolsAllow": ["*"]])
        })
        let parent = try run(e, #"@sessions_spawn{"message":"@clock"}"#, policy: ToolPolicy(allow: ["echo", "sessions_spawn"]))
        let child = try child(e, of: parent.results["sessions_spawn"])
        #expect(try e.wait(runId: child.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        let policy = try JSON.parse(try e.sessionJSON(sessionKey: child.key, for: .operator))["toolPolicy"]
        // The patch joins the policies the child must pass; it replaces nothing.
        #expect(policy?["allow"] == [] && policy?["inherited"]?.arrayValue?.count == 2, "\(String(describing: policy))")
        let clock = try e.transcript(sessionKey: child.key, by: .operator).first { $0.toolName == "clock" }
        #expect(clock?.content == "tool 'clock' is not in an allow list the session inherited (a parent session's, or a hook's) (echo, sessions_spawn)")
    }

    @Test func aSpawnedSessionUsesSessionToolsOnlyWhenItsAllowListNamesThem() throws {
        let e = try Engine.quick()
        defer { e.shutdown() }
        let message = #"@gateway{"method":"status"} @sessions_steer{"sessionKey":"x","text":"y"} @sessions_spawn{"message":"hi"}"#
        // A plugin's session: refused by default, and a glob is not enough.
        for policy in [ToolPolicy(), ToolPolicy(allow: ["*"])] {
            let session = try run(e, message, policy: policy, by: .plugin("p"))
            for name in ["gateway", "sessions_steer", "sessions_spawn"] {
                #expect(session.results[name]?.content == "tool '\(name)' is not available to a spawned session unless its own tools_allow names it ('\(name)' or 'group:sessions')")
            }
        }
        // Named, they work with the owner's rights: the gateway answers; steering a session of another owner is refused.
        let operatorSession = try e.spawn(SessionSpec(message: "@sleep{\"ms\":2000}"), by: .operator)
        defer { try? e.cancelRun(operatorSession.runId, by: .operator) }
        let named = try run(e, #"@gateway{"method":"status"} @gateway{"method":"sessions.delete"} @sessions_steer{"sessionKey":"\#(operatorSession.sessionKey)","text":"y"}"#,
                            policy: ToolPolicy(allow: ["gateway", "group:sessions"]), by: .plugin("p"))
        let transcript = try e.transcript(sessionKey: named.key, by: .operator).filter { $0.role == .tool }
        #expect(transcript[0].isError == false && transcript[0].content.hasPrefix(#"{"host":"pincer""#))
        #expect(transcript[1].content.contains("gateway method 'sessions.delete' is not available to plugins"))
        // Another caller's session answers like a missing one.
        #expect(!transcript[2].content.contains("queued"), "\(transcript[2].content)")
        // The operator's own sessions are not spawned: the tools are theirs by default.
        let operatorRun = try run(e, #"@gateway{"method":"models.list"}"#)
        #expect(operatorRun.results["gateway"]?.isError == false)
    }

    @Test func aPluginsSessionCannotSpawnPastTheGuards() throws {
        let e = try Engine.quick { $0.maxSpawnsPerMinute = 1 }
        defer { e.shutdown() }
        let session = try run(e, #"@sessions_spawn{"message":"hi"}"#, policy: ToolPolicy(allow: ["sessions_spawn"]), by: .plugin("p"))
        #expect(session.results["sessions_spawn"]?.content.contains("guards.maxSpawnsPerMinute = 1") == true)
    }

    @Test func theOperatorsSessionsCannotSpawnUnboundedChildren() throws {
        let e = try Engine.quick { $0.maxConcurrentChildSessions = 2 }
        defer { e.shutdown() }
        let spawn = #"@sessions_spawn{"message":"@sleep{\"ms\":1500}"}"#
        let started = try e.spawn(SessionSpec(message: [spawn, spawn, spawn].joined(separator: " ")), by: .operator)
        #expect(try e.wait(runId: started.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        let results = try e.transcript(sessionKey: started.sessionKey, by: .operator).filter { $0.role == .tool }
        #expect(results.map(\.isError) == [false, false, true], "\(results.map(\.content))")
        #expect(results.last?.content.contains("2 child sessions of the operator's sessions are already running (guards.maxConcurrentChildSessions = 2)") == true,
                "\(results.last?.content ?? "")")
        #expect(e.statusJSON().contains("\"activeChildSessions\":2"))
    }

    @Test func theParentLinkAndInheritedPolicySurviveARestart() throws {
        let dir = NSTemporaryDirectory() + "pincer-session-tools-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try Engine.quick(store: try SQLiteStore(path: "\(dir)/s.sqlite"))
        let parent = try run(first, #"@sessions_spawn{"message":"hello"}"#, policy: ToolPolicy(allow: ["sessions_spawn", "gateway"]))
        let child = try child(first, of: parent.results["sessions_spawn"])
        _ = try first.wait(runId: child.runId, timeoutMs: 10_000, by: .operator)
        first.shutdown()

        let reopened = try Engine.quick(store: try SQLiteStore(path: "\(dir)/s.sqlite"))
        defer { reopened.shutdown() }
        let description = try JSON.parse(try reopened.sessionJSON(sessionKey: child.key, for: .operator))
        #expect(description["parentKey"]?.stringValue == parent.key)
        // Still a spawned session held to its parent: gateway is allowed above it but not named by it.
        let runId = try reopened.prompt(sessionKey: child.key, text: #"@gateway{"method":"status"} @clock"#, by: .operator)
        #expect(try reopened.wait(runId: runId, timeoutMs: 10_000, by: .operator).status == .completed)
        let results = try reopened.transcript(sessionKey: child.key, by: .operator).filter { $0.role == .tool && $0.runId == runId }
        #expect(results.first { $0.toolName == "gateway" }?.content.contains("not available to a spawned session") == true)
        #expect(results.first { $0.toolName == "clock" }?.content == "tool 'clock' is not in an allow list the session inherited (a parent session's, or a hook's) (sessions_spawn, gateway)")
    }
}
