// Hooks registered by C plugins: gates that patch and block sessions and tool
// calls, composed across plugins by priority; failing, malformed and late
// gates that fail closed while the engine goes on; observers that hear every
// run event; and the scope and lifetime rules of hooks.h.

import Foundation
import PincerCore
@testable import PincerHost
import Testing

@Suite struct HookTests {
    /// Two hook plugins that see every session: fx-hooks-a at priority 10, fx-hooks-b at 0.
    private func twoPlugins(extraConfig: String = "") throws -> TestHost {
        let config = try OperatorConfig.parse("""
            {"plugins": {"entries": {"fx-hooks-a": {"sessionAccess": "all"}, "fx-hooks-b": {"sessionAccess": "all"}}}\(extraConfig)}
            """, source: "hooks.json")
        let t = try TestHost(config: config)
        // Loaded b first: registration order must not beat priority.
        _ = try t.load("Tests/Fixtures/c/hooks.c", as: "b.so", flags: ["-DFIXTURE_ID=\"fx-hooks-b\"", "-DFIXTURE_PRIORITY=0"])
        _ = try t.load("Tests/Fixtures/c/hooks.c", as: "a.so", flags: ["-DFIXTURE_ID=\"fx-hooks-a\"", "-DFIXTURE_PRIORITY=10"])
        for id in ["fx-hooks-a", "fx-hooks-b"] {
            let registered = t.run(id, "register")
            #expect(registered.passed, "\(registered.report)")
        }
        return t
    }

    private func mode(_ t: TestHost, _ id: String, _ mode: String) {
        #expect(t.run(id, "mode \(mode)").passed)
    }

    /// The recorded hook calls of a plugin, as (point, subject, payload).
    private func events(_ t: TestHost, _ id: String) throws -> [(point: String, subject: String, workspace: String, payload: JSON)] {
        try t.run(id, "events").report.split(separator: "\n").map { line in
            let parts = line.split(separator: " ", maxSplits: 4).map(String.init)
            return (parts[1], parts[2], parts[3], try JSON.parse(parts[4]))
        }
    }

    /// Waits until a plugin has recorded `count` calls at `point` (observers are asynchronous).
    private func waitForEvents(_ t: TestHost, _ id: String, _ point: String, count: Int) throws {
        let deadline = Date().addingTimeInterval(5)
        while try events(t, id).filter({ $0.point == point }).count < count, Date() < deadline { usleep(2000) }
    }

    private func spawnAndWait(_ t: TestHost, _ message: String) throws -> (key: String, transcript: [Message]) {
        let started = try t.engine.spawn(SessionSpec(message: message), by: .operator)
        let info = try t.engine.wait(runId: started.runId, timeoutMs: 10_000, by: .operator)
        #expect(info.status == .completed, "\(info.error ?? "")")
        return (started.sessionKey, try t.engine.transcript(sessionKey: started.sessionKey, by: .operator))
    }

    @Test func registerHookRefusesWhatItCannotServe() throws {
        let t = try TestHost()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/hooks.c", as: "hooks.so")
        let refusals = t.run("fx-hooks", "refusals")
        #expect(refusals.passed, "\(refusals.report)")

        let config = try OperatorConfig.parse(#"{"plugins": {"entries": {"fx-hooks-x": {"capabilities": ["sessions.spawn"]}}}}"#, source: "c.json")
        let denied = try TestHost(config: config)
        defer { denied.close() }
        _ = try denied.load("Tests/Fixtures/c/hooks.c", as: "x.so", flags: ["-DFIXTURE_ID=\"fx-hooks-x\""])
        let report = denied.run("fx-hooks-x", "register").report
        #expect(report.contains("returned \(ResultCode.denied)") && report.contains("lacks the capability 'hooks.gate'"), "\(report)")
    }

    @Test func gatesPatchInPriorityOrderAndEachSeesTheLastPatch() throws {
        let t = try twoPlugins()
        defer { t.close() }
        mode(t, "fx-hooks-a", "patch")
        mode(t, "fx-hooks-b", "patch")
        let (key, transcript) = try spawnAndWait(t, #"@clock @echo{"text":"hi"}"#)

        // The session as written: b's prompt (it ran last), both denials, each plugin's own metadata.
        let session = try JSON.parse(try t.engine.sessionJSON(sessionKey: key, for: .operator))
        #expect(session["systemPrompt"]?.stringValue == "Patched by fx-hooks-b")
        #expect(session["toolPolicy"]?["deny"] == ["clock", "clock"])
        #expect(try t.engine.metadata(sessionKey: key, by: .plugin("fx-hooks-a")) == ["seenBy": "fx-hooks-a"])
        #expect(try t.engine.metadata(sessionKey: key, by: .plugin("fx-hooks-b")) == ["seenBy": "fx-hooks-b"])

        // a ran first and saw the request; b saw a's patch.
        let a = try events(t, "fx-hooks-a"), b = try events(t, "fx-hooks-b")
        let aSession = try #require(a.first { $0.point == "before_session_create" })
        let bSession = try #require(b.first { $0.point == "before_session_create" })
        #expect(aSession.payload["systemPrompt"] == .null && aSession.payload["message"]?.stringValue == #"@clock @echo{"text":"hi"}"#)
        #expect(bSession.payload["systemPrompt"]?.stringValue == "Patched by fx-hooks-a")
        #expect(bSession.subject == key && aSession.workspace == t.engine.config.workspaceDir)

        // clock is denied by the patched policy before any gate; echo's arguments are rewritten twice.
        let results = Dictionary(uniqueKeysWithValues: transcript.filter { $0.role == .tool }.map { ($0.toolName!, $0) })
        #expect(results["clock"]?.isError == true && results["clock"]?.content.contains("deny pattern 'clock'") == true)
        #expect(results["echo"]?.content == "rewritten by fx-hooks-b")
        #expect(a.filter { $0.point == "before_tool_call" }.map(\.subject) == ["echo"])
        let bTool = try #require(b.first { $0.point == "before_tool_call" })
        #expect(bTool.payload["arguments"] == ["text": "rewritten by fx-hooks-a"])

        // The run's record names both patches; session_created saw the patched session.
        let runId = try #require(transcript.first { $0.role == .user }?.runId)
        let hookEvents = try t.engine.events(ofRun: runId, by: .operator).filter { $0.kind == .hook }.map(\.summary)
        #expect(hookEvents == ["hook before_tool_call patched by fx-hooks-a", "hook before_tool_call patched by fx-hooks-b"])
        try waitForEvents(t, "fx-hooks-b", "session_created", count: 1)
        let created = try #require(try events(t, "fx-hooks-b").first { $0.point == "session_created" })
        #expect(created.payload["systemPrompt"]?.stringValue == "Patched by fx-hooks-b" && created.payload["metadata"] == ["seenBy": "fx-hooks-b"])
    }

    @Test func theFirstBlockWinsAndLaterGatesAreNotAsked() throws {
        let t = try twoPlugins()
        defer { t.close() }
        mode(t, "fx-hooks-a", "block")
        mode(t, "fx-hooks-b", "patch")
        #expect(throws: EngineError(.denied, "spawn refused: blocked by plugin 'fx-hooks-a' (before_session_create hook): no sessions today")) {
            try t.engine.spawn(SessionSpec(message: "hello"), by: .operator)
        }
        #expect(try events(t, "fx-hooks-b").isEmpty)
        #expect(t.engine.sessionKeys.isEmpty, "a blocked session was written")
        #expect(t.logs.contains("blocked by plugin 'fx-hooks-a' (before_session_create hook): no sessions today"))

        mode(t, "fx-hooks-a", "block-tools")
        mode(t, "fx-hooks-b", "allow")
        let (_, transcript) = try spawnAndWait(t, #"@echo{"text":"hi"} @clock"#)
        let echo = try #require(transcript.first { $0.toolName == "echo" })
        #expect(echo.isError && echo.content == "tool 'echo' blocked by plugin 'fx-hooks-a' (before_tool_call hook): echo is off-limits")
        #expect(try events(t, "fx-hooks-b").filter { $0.point == "before_tool_call" }.map(\.subject) == ["clock"])
        #expect(transcript.first { $0.toolName == "clock" }?.isError == false)
    }

    @Test func aGateThatFailsOrAnswersNonsenseBlocks() throws {
        let t = try twoPlugins()
        defer { t.close() }
        let cases: [(String, String)] = [
            ("fail", "blocked: plugin 'fx-hooks-a' (before_session_create hook) failed: it returned PINCER_ERR_PLUGIN: the policy store is unreachable"),
            ("bad-verdict", "blocked: plugin 'fx-hooks-a' (before_session_create hook) failed: its verdict 7 is neither PINCER_HOOK_CONTINUE nor PINCER_HOOK_BLOCK"),
            ("bad-patch", "blocked: plugin 'fx-hooks-a' (before_session_create hook) failed: its patch is not valid JSON"),
            ("bad-member", "blocked: plugin 'fx-hooks-a' (before_session_create hook) returned a patch the host cannot apply: the patch has member 'model'; allowed here: systemPrompt, toolsAllow, toolsDeny, metadata"),
        ]
        for (mode, message) in cases {
            self.mode(t, "fx-hooks-a", mode)
            do {
                _ = try t.engine.spawn(SessionSpec(message: "hello"), by: .operator)
                Issue.record("mode \(mode): the spawn was not refused")
            } catch {
                #expect(error.kind == .denied && error.message.hasPrefix("spawn refused: " + message), "\(mode): \(error.message)")
            }
        }
        // At a tool gate the same failure reaches the model as an error; the tool never runs.
        self.mode(t, "fx-hooks-a", "allow")
        let started = try t.engine.spawn(SessionSpec(message: #"@sleep{"ms":300} @echo{"text":"hi"}"#), by: .operator)
        usleep(100_000)
        self.mode(t, "fx-hooks-a", "bad-member")
        #expect(try t.engine.wait(runId: started.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        let echo = try #require(try t.engine.transcript(sessionKey: started.sessionKey, by: .operator).first { $0.toolName == "echo" })
        #expect(echo.isError && echo.content.contains("the patch has member 'model'; allowed here: arguments"), "\(echo.content)")
        #expect(t.engine.sessionKeys.count == 1)
    }

    @Test func aLateGateBlocksAndTheEngineGoesOn() throws {
        let t = try twoPlugins(extraConfig: #", "hooks": {"defaultDeadlineMs": 200}"#)
        defer { t.close() }
        mode(t, "fx-hooks-a", "slow")
        let started = Date()
        #expect(throws: EngineError(.denied, "spawn refused: blocked: plugin 'fx-hooks-a' (before_session_create hook) did not answer within its deadline of 200 ms")) {
            try t.engine.spawn(SessionSpec(message: "hello"), by: .operator)
        }
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 0.2 && waited < 1.2, "the spawn waited \(waited) s for a hook with a 200 ms deadline")
        // Once the hook returns (its late answer is dropped), the plugin's gates answer again.
        mode(t, "fx-hooks-a", "allow")
        usleep(1_500_000)
        let (_, transcript) = try spawnAndWait(t, #"@echo{"text":"after"}"#)
        #expect(transcript.first { $0.toolName == "echo" }?.content == "after")
        #expect(t.engine.sessionKeys.count == 1)
    }

    @Test func observersHearTheWholeRunInOrderOnALaneThatNeverOverlaps() throws {
        let t = try twoPlugins()
        defer { t.close() }
        let (key, transcript) = try spawnAndWait(t, #"@echo{"text":"one"} @echo{"text":"two"}"#)
        try waitForEvents(t, "fx-hooks-b", "run_event", count: 8)
        let runEvents = try events(t, "fx-hooks-b").filter { $0.point == "run_event" && $0.subject == key }
        let kinds = runEvents.compactMap { $0.payload["kind"]?.stringValue }
        #expect(kinds == ["turn", "tool_call", "tool_result", "turn", "tool_call", "tool_result", "turn", "finished"], "\(kinds)")
        #expect(runEvents.last?.payload["status"]?.stringValue == "completed")
        #expect(runEvents.last?.payload["finalText"]?.stringValue == transcript.last { $0.role == .assistant }?.content)
        // The streamed deltas add up to the model's texts.
        let texts = transcript.filter { $0.role == .assistant }.map(\.content).joined()
        #expect(t.run("fx-hooks-b", "deltas").report == texts)

        let after = try events(t, "fx-hooks-b").filter { $0.point == "after_tool_call" }
        #expect(after.map { $0.payload["result"]?.stringValue } == ["one", "two"])
        #expect(after.allSatisfy { $0.payload["isError"] == .bool(false) && $0.payload["durationMs"]?.wholeNumber != nil })
        #expect(t.run("fx-hooks-b", "overlaps").report == "0", "calls on one of the plugin's lanes overlapped")
    }

    /// One hook plugin, fx-hooks, with the default scope (its own sessions), in `mode`.
    private func onePlugin(mode: String) throws -> TestHost {
        let t = try TestHost()
        _ = try t.load("Tests/Fixtures/c/hooks.c", as: "hooks.so")
        #expect(t.run("fx-hooks", "register").passed)
        self.mode(t, "fx-hooks", mode)
        return t
    }

    /// Has fx-hooks spawn a session of its own with `message` and waits for the run; answers the key.
    private func spawnOwn(_ t: TestHost, _ message: String) throws -> String {
        let own = t.run("fx-hooks", "spawn " + message)
        #expect(own.passed, "\(own.report)")
        let parts = own.report.split(separator: " ").map(String.init)
        try #require(parts.count == 2)
        #expect(try t.engine.wait(runId: parts[1], timeoutMs: 10_000, by: .operator).status == .completed)
        return parts[0]
    }

    @Test func hooksSeeOnlyTheSessionsThePluginMayUse() throws {
        let t = try onePlugin(mode: "call-host")
        defer { t.close() }
        _ = try spawnAndWait(t, #"@echo{"text":"operator's"}"#)
        let key = try spawnOwn(t, #"@echo{"text":"mine"}"#)
        try waitForEvents(t, "fx-hooks", "after_tool_call", count: 1)
        let seen = Set(try events(t, "fx-hooks").filter { $0.point == "before_session_create" || $0.point == "session_created" }.map(\.subject))
        #expect(seen == [key], "the hooks saw \(seen)")
        // The gate called the host from its hook thread, and the call went on.
        #expect(t.logs.contains("[fx-hooks] info: hook called the host"))
        #expect(try t.engine.transcript(sessionKey: key, by: .operator).first { $0.toolName == "echo" }?.content == "mine")
    }

    @Test func aHookMaySpawnAndItsOwnGatesRunAtOnce() throws {
        let t = try onePlugin(mode: "spawn-in-hook")
        defer { t.close() }
        let started = Date()
        let key = try spawnOwn(t, #"@echo{"text":"after the nested spawn"}"#)
        let echo = try #require(try t.engine.transcript(sessionKey: key, by: .operator).first { $0.toolName == "echo" })
        #expect(!echo.isError && echo.content == "after the nested spawn", "\(echo.content)")
        #expect(Date().timeIntervalSince(started) < 0.9, "the nested gate waited for its deadline")
        // The nested spawn went through the plugin's before_session_create hook too.
        #expect(try events(t, "fx-hooks").filter { $0.point == "before_session_create" }.count == 2)
        #expect(t.engine.sessionKeys.count == 2)
    }

    @Test func noHookIsCalledOnceThePluginHasShutDown() throws {
        let t = try twoPlugins()
        defer { t.close() }
        mode(t, "fx-hooks-a", "block")
        let a = try #require(t.caseRunner("fx-hooks-a"))
        t.host.shutdown()
        // Runs end and intake stops before any plugin stops: nothing can reach its hooks after.
        #expect(throws: EngineError.self) { try t.engine.spawn(SessionSpec(message: "@echo{\"text\":\"free\"}"), by: .operator) }
        for point in HookPoint.allCases { #expect(!t.engine.hooks.has(point)) }
        #expect(a("events").report.isEmpty)
    }
}
