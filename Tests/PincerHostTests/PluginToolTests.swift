// Tools a C plugin registers run for sessions whose policy allows them, never
// for those whose policy denies them, and every way a tool can fail reaches
// the model as an error, never as a crash.

import Foundation
import PincerCore
@testable import PincerHost
import Testing

@Suite struct PluginToolTests {
    private func host() throws -> TestHost {
        let t = try TestHost()
        _ = try t.load("Tests/Fixtures/c/tools.c", as: "tools.so")
        let registered = t.run("fx-tools", "register")
        #expect(registered.passed, "\(registered.report)")
        return t
    }

    private func run(_ t: TestHost, _ message: String, policy: ToolPolicy = ToolPolicy()) throws -> [Message] {
        let started = try t.engine.spawn(SessionSpec(message: message, toolPolicy: policy), by: .operator)
        #expect(try t.engine.wait(runId: started.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        return try t.engine.transcript(sessionKey: started.sessionKey, by: .operator)
    }

    @Test func aRegisteredToolRunsWithTheCallsContext() throws {
        let t = try host()
        defer { t.close() }
        let file = "\(t.directory)/note.txt"
        let transcript = try run(t, "@fx-tools.note{\"path\":\"\(file)\",\"text\":\"hello\"}")
        let result = try #require(transcript.first { $0.toolName == "fx-tools.note" })
        #expect(!result.isError && result.content == "noted", "\(result.content)")
        let written = try String(contentsOfFile: file, encoding: .utf8)
        #expect(written.hasPrefix("hello (session operator:") && written.contains(", call call-1)"), "\(written)")
    }

    @Test func aDeniedToolNeverRuns() throws {
        let t = try host()
        defer { t.close() }
        let file = "\(t.directory)/must-not-exist.txt"
        for policy in [ToolPolicy(deny: ["fx-tools.note"]), ToolPolicy(deny: ["group:fx-tools.fixture"]), ToolPolicy(allow: ["echo"])] {
            let transcript = try run(t, "@fx-tools.note{\"path\":\"\(file)\",\"text\":\"x\"}", policy: policy)
            let result = try #require(transcript.first { $0.toolName == "fx-tools.note" })
            #expect(result.isError, "\(policy): \(result.content)")
        }
        #expect(!FileManager.default.fileExists(atPath: file), "a denied tool wrote its file")
        #expect(t.run("fx-tools", "calls").report == "0")
    }

    @Test func theHostsPolicyComesFirstAndASessionCanOnlyNarrowIt() throws {
        let config = try OperatorConfig.parse(#"{"tools": {"allow": ["echo", "fx-tools.*"], "deny": ["fx-tools.note"]}}"#, source: "host.json")
        let t = try TestHost(config: config)
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/tools.c", as: "tools.so")
        #expect(t.run("fx-tools", "register").passed)
        let file = "\(t.directory)/never.txt"
        // The session allows fx-tools.note explicitly: the host's deny still wins.
        let transcript = try run(t, "@fx-tools.note{\"path\":\"\(file)\",\"text\":\"x\"} @clock @echo{\"text\":\"ok\"}",
                                 policy: ToolPolicy(allow: ["fx-tools.note", "clock", "echo"]))
        let results = Dictionary(uniqueKeysWithValues: transcript.filter { $0.role == .tool }.map { ($0.toolName!, $0) })
        #expect(results["fx-tools.note"]?.content == "tool 'fx-tools.note' is denied by the host's tool policy (operator config tools.deny) (deny pattern 'fx-tools.note')")
        #expect(results["clock"]?.content == "tool 'clock' is not in the host's allow list (operator config tools.allow) (echo, fx-tools.*)")
        #expect(results["echo"]?.isError == false)
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test func aPluginsSessionsUseOnlyItsOwnPluginTools() throws {
        let config = try OperatorConfig.parse(#"{"plugins": {"entries": {"trusted": {"useOtherPluginsTools": true}}}}"#, source: "t.json")
        let t = try TestHost(config: config)
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/tools.c", as: "tools.so")
        #expect(t.run("fx-tools", "register").passed)
        let refusal = "tool 'fx-tools.note' belongs to plugin 'fx-tools'; sessions of plugin 'other' may use only the host's tools and its own (set plugins.entries.other.useOtherPluginsTools = true to allow)"
        #expect(throws: EngineError(.denied, "tools_allow names " + refusal)) {
            try t.engine.spawn(SessionSpec(message: "hi", toolPolicy: ToolPolicy(allow: ["fx-tools.note", "echo"])), by: .plugin("other"))
        }
        let file = "\(t.directory)/note.txt"
        let message = "@fx-tools.note{\"path\":\"\(file)\",\"text\":\"x\"}"
        for (caller, allowed) in [(Caller.plugin("other"), false), (.plugin("fx-tools"), true), (.plugin("trusted"), true)] {
            let started = try t.engine.spawn(SessionSpec(message: message), by: caller)
            #expect(try t.engine.wait(runId: started.runId, timeoutMs: 10_000, by: .operator).status == .completed)
            let result = try #require(try t.engine.transcript(sessionKey: started.sessionKey, by: .operator).first { $0.toolName == "fx-tools.note" })
            #expect(result.isError == !allowed && (allowed ? result.content == "noted" : result.content == refusal), "\(caller): \(result.content)")
            #expect(FileManager.default.fileExists(atPath: file) == allowed, "\(caller)")
            try? FileManager.default.removeItem(atPath: file)
        }
    }

    @Test func failuresReachTheModelAsErrors() throws {
        let t = try host()
        defer { t.close() }
        let transcript = try run(t, "@fx-tools.fail @fx-tools.bad_utf8 @fx-tools.nothing @fx-tools.note{\"path\":1}")
        let results = Dictionary(uniqueKeysWithValues: transcript.filter { $0.role == .tool }.map { ($0.toolName!, $0) })
        #expect(results["fx-tools.fail"]?.content == "tool 'fx-tools.fail' failed: plugin 'fx-tools' reported PINCER_ERR_PLUGIN: the calendar is closed today")
        #expect(results["fx-tools.bad_utf8"]?.content == "tool 'fx-tools.bad_utf8' failed: the text plugin 'fx-tools' returned from tool 'fx-tools.bad_utf8' is not valid UTF-8")
        #expect(results["fx-tools.nothing"]?.isError == false && results["fx-tools.nothing"]?.content == "")
        #expect(results["fx-tools.note"]?.content.contains("PINCER_ERR_INVALID_ARGUMENT: note needs") == true)
    }

    @Test func toolNamesCarryThePluginsIdAndLeaveWithThePlugin() throws {
        let t = try host()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/tools.c", as: "other.so", flags: ["-DFIXTURE_ID=\"fx-tools-b\""])
        let clash = t.run("fx-tools-b", "clash")
        #expect(clash.passed, "\(clash.report)")
        #expect(t.engine.tools.tool(named: "fx-tools.note")?.owner == "fx-tools")
        t.host.shutdown()
        #expect(t.engine.tools.tool(named: "fx-tools.note") == nil)
        #expect(t.engine.tools.tool(named: "echo") != nil)
    }
}
