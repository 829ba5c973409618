// Every host function, called from a real compiled C plugin: the plugin checks
// what it gets back (its case passes or reports the failed expectation), and
// the test checks what the host recorded.

import Foundation
import PincerCore
@testable import PincerHost
import Testing

@Suite struct HostFunctionTests {
    /// fx-spawn may choose models: two of its cases do.
    static let modelGrant = try! OperatorConfig.parse(#"{"plugins": {"entries": {"fx-spawn": {"allowModelOverride": true}}}}"#, source: "test")

    @Test func spawnRunsARestrictedSessionAndTheDeniedToolNeverRuns() throws {
        let t = try TestHost(config: HostFunctionTests.modelGrant)
        defer { t.close() }
        #expect(try t.load("Tests/Fixtures/c/spawn.c", as: "spawn.so").state == .loaded)
        let result = t.run("fx-spawn", "restricted")
        #expect(result.passed, "\(result.report)")
        let transcript = try t.engine.transcript(sessionKey: result.report, by: .operator)
        let clock = try #require(transcript.first { $0.toolName == "clock" })
        #expect(clock.isError)
        #expect(clock.content.contains("deny pattern 'clock'"))
        #expect(t.logs.contains("tool 'clock' is denied by the session's tool policy"))
        let session = try t.engine.sessionJSON(sessionKey: result.report, for: .plugin("fx-spawn"))
        #expect(session.contains("\"metadata\":{\"ticket\":7}"))
        #expect(session.contains("\"systemPrompt\":\"be brief\""))
        // Another plugin may not read the session; the operator may, but sees its own (empty) metadata namespace.
        #expect(throws: EngineError.self) { try t.engine.sessionJSON(sessionKey: result.report, for: .plugin("other")) }
        #expect(try t.engine.sessionJSON(sessionKey: result.report, for: .operator).contains("\"metadata\":{}"))
    }

    @Test func spawnRefusesBadRequestsWithReasons() throws {
        let t = try TestHost(config: HostFunctionTests.modelGrant)
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/spawn.c", as: "spawn.so")
        let result = t.run("fx-spawn", "refusals")
        #expect(result.passed, "\(result.report)")
        #expect(t.engine.sessionKeys.isEmpty, "a refused spawn created a session")
    }

    @Test(arguments: ["follow_up", "wait_timeout", "cancel", "delete", "run_timeout", "failed_run"])
    func sessionFunctions(caseName: String) throws {
        let t = try TestHost()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/sessions.c", as: "sessions.so")
        let result = t.run("fx-sessions", caseName)
        #expect(result.passed, "\(result.report)")
        if caseName == "follow_up" {
            let roles = try t.engine.transcript(sessionKey: result.report, by: .operator).map(\.role)
            #expect(roles.filter { $0 == .user }.count == 2)
            #expect(roles.filter { $0 == .tool }.count == 1)
        }
    }

    @Test func steerLandsBetweenToolCallsAndTheNextTurnSeesIt() throws {
        let t = try TestHost(tokenDelayMs: 2)
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/steer.c", as: "steer.so")
        let result = t.run("fx-steer", "steer")
        #expect(result.passed, "\(result.report)")
        let unknown = t.run("fx-steer", "unknown")
        #expect(unknown.passed, "\(unknown.report)")
    }

    @Test func rateLimitWindowResetAndArgumentChecks() throws {
        let t = try TestHost()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/rate_limit.c", as: "rate.so")
        for name in ["window", "reset", "bad_arguments"] {
            let result = t.run("fx-ratelimit", name)
            #expect(result.passed, "\(name): \(result.report)")
        }
    }

    @Test func rateLimitKeysAreNamespacedPerPlugin() throws {
        let t = try TestHost()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/rate_limit.c", as: "rate-a.so")
        _ = try t.load("Tests/Fixtures/c/rate_limit.c", as: "rate-b.so", flags: ["-DFIXTURE_ID=\"fx-ratelimit-b\""])
        let a = t.run("fx-ratelimit", "shared_key")
        let b = t.run("fx-ratelimit-b", "shared_key")
        #expect(a.passed, "\(a.report)")
        #expect(b.passed, "\(b.report)")
    }

    @Test func hostStateIsReadOnly() throws {
        let t = try TestHost()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/host_read.c", as: "read.so")
        for name in ["read", "refused"] {
            let result = t.run("fx-hostread", name)
            #expect(result.passed, "\(name): \(result.report)")
        }
        #expect(t.engine.sessionKeys.isEmpty)
    }

    @Test func servicesLogConfigAndExtensions() throws {
        var config = OperatorConfig()
        config.entries["fx-services"] = .init(config: ["region": "eu", "retries": 3])
        let t = try TestHost(config: config)
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/services.c", as: "services.so")
        let result = t.run("fx-services", "services")
        #expect(result.passed, "\(result.report)")
        #expect(result.report == "{\"region\":\"eu\",\"retries\":3}")
        #expect(t.logs.contains("[fx-services] info: hello from services"))
        #expect(t.logs.contains("[fx-services] error: an error line"))
    }

    @Test(arguments: ["null_arguments", "invalid_utf8", "unknown_keys", "forged_handle"])
    func misuseGetsCodesAndMessagesNeverACrash(caseName: String) throws {
        let t = try TestHost()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/misuse.c", as: "misuse.so")
        let result = t.run("fx-misuse", caseName)
        #expect(result.passed, "\(result.report)")
        #expect(t.engine.sessionKeys.isEmpty, "bad input created a session")
    }

    @Test func callsAfterShutdownAreRefused() throws {
        let t = try TestHost()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/misuse.c", as: "misuse.so")
        let runner = try #require(t.caseRunner("fx-misuse"))
        t.host.shutdown()
        let result = runner("after_shutdown")
        #expect(result.code == 0, "\(result.report)")
    }

    @Test func aCapabilityNotRequestedIsDenied() throws {
        let t = try TestHost()
        defer { t.close() }
        let record = try t.load("Tests/Fixtures/c/misuse.c", as: "nocaps.so",
                                flags: ["-DFIXTURE_ID=\"fx-nocaps\"", "-DFIXTURE_CAPABILITIES=PINCER_CAP_HOST_READ"])
        #expect(record.capabilities == ["host.read"])
        let result = t.run("fx-nocaps", "capability_denied")
        #expect(result.passed, "\(result.report)")
    }

    @Test func operatorGrantsNarrowCapabilities() throws {
        var config = OperatorConfig()
        config.entries["fx-nocaps"] = .init(capabilities: ["host.read"])
        let t = try TestHost(config: config)
        defer { t.close() }
        // Asks for everything; the operator grants host.read only.
        let record = try t.load("Tests/Fixtures/c/misuse.c", as: "granted.so", flags: ["-DFIXTURE_ID=\"fx-nocaps\""])
        #expect(record.capabilities == ["host.read"])
        let result = t.run("fx-nocaps", "capability_denied")
        #expect(result.passed, "\(result.report)")
    }
}

@Suite struct ConcurrencyTests {
    @Test func eightThreadsOnTheHostTableGetExactAnswers() throws {
        let t = try TestHost()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/concurrency.c", as: "concurrency.so")
        let result = t.run("fx-concurrency", "hammer")
        #expect(result.passed, "\(result.report)")
    }
}

/// runs.h, "pincer.runs/1": a C plugin follows runs and checks every call it gets.
@Suite struct RunFollowTests {
    @Test(arguments: ["live", "late", "end_only", "refusals", "unregister"])
    func aPluginFollowsRuns(caseName: String) throws {
        let t = try TestHost()
        defer { t.close() }
        #expect(try t.load("Tests/Fixtures/c/follow.c", as: "follow.so").state == .loaded)
        let result = t.run("fx-follow", caseName)
        #expect(result.passed, "\(result.report)")
    }
}

/// acp.h, "pincer.acp/1": a C plugin starts and continues sessions on an external agent (the ACP
/// Python SDK's echo agent, from build/venv and build/acp-sdk: scripts/python-peers), only while
/// the operator's plugins.allowAcpSpawn allows it — checked at every call.
@Suite struct ACPExtensionTests {
    static func config(allow: Bool) throws -> OperatorConfig {
        let python = Repo.path("build/venv/bin/python")
        try #require(FileManager.default.isExecutableFile(atPath: python), "no \(python): run scripts/python-peers (scripts/test does)")
        return try OperatorConfig.parse("""
            {"acp": {"agents": {"echo": {"command": "\(python)", "args": ["\(Repo.path("build/acp-sdk/examples/echo_agent.py"))"]}}},
             "engine": {"workspaceDir": "\(NSTemporaryDirectory())"},
             "plugins": {"allowAcpSpawn": \(allow)}}
            """, source: "test")
    }

    @Test func withTheGateOffSpawnIsRefusedNamingTheSetting() throws {
        let t = try TestHost(config: try Self.config(allow: false))
        defer { t.close() }
        #expect(try t.load("Tests/Fixtures/c/acp.c", as: "acp.so").state == .loaded)
        for name in ["refused", "unknown"] {
            let result = t.run("fx-acp", name)
            #expect(result.passed, "\(name): \(result.report)")
        }
        #expect(t.engine.sessionKeys.isEmpty)
    }

    @Test func withTheGateOnAPluginSpawnsContinuesAndReadsAnAgentsSession() throws {
        let t = try TestHost(config: try Self.config(allow: true))
        defer { t.close() }
        #expect(try t.load("Tests/Fixtures/c/acp.c", as: "acp.so").state == .loaded)
        // A 1.0 plugin beside it, built against the frozen 1.0 headers, loads and works unchanged.
        #expect(try t.load("Tests/Fixtures/c/sessions.c", as: "frozen.so", include: Fixtures.frozenABI).state == .loaded)
        #expect(t.run("fx-sessions", "follow_up").passed)
        let result = t.run("fx-acp", "spawn")
        #expect(result.passed, "\(result.report)")
        let session = try JSON.parse(t.engine.sessionJSON(sessionKey: result.report, for: .operator))
        #expect(session["model"] == "acp/echo")
        // The operator turns it off: the plugin's next call on its agent session is refused.
        t.engine.access.externalAgents.update(allowed: false, deniedPlugins: [])
        #expect(throws: EngineError.self) { try t.engine.transcript(sessionKey: result.report, by: .plugin("fx-acp")) }
    }
}

/// A plugin's before_tool_call gate over an external agent's calls: it may block them, never rewrite them.
@Suite struct ACPGateHookTests {
    @Test func aGateBlocksAnAgentsReadAndAPatchBlocksTooWhileOtherCallsGoOn() throws {
        let python = Repo.path("build/venv/bin/python")
        try #require(FileManager.default.isExecutableFile(atPath: python), "no \(python): run scripts/python-peers (scripts/test does)")
        let workspace = NSTemporaryDirectory() + "pincer-acp-gate-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: workspace) }
        let config = try OperatorConfig.parse("""
            {"acp": {"agents": {"test": {"command": "\(python)", "args": ["\(Repo.path("Tests/ACP/test_agent.py"))"],
                                         "env": {"ACP_TEST_AGENT_STATE": "\(workspace)/state"}}}},
             "engine": {"workspaceDir": "\(workspace)"},
             "plugins": {"entries": {"fx-acp-gate": {"sessionAccess": "all"}}}}
            """, source: "test")
        let t = try TestHost(config: config)
        defer { t.close() }
        #expect(try t.load("Tests/Fixtures/c/acp_gate.c", as: "gate.so").state == .loaded)
        let started = try t.engine.spawn(SessionSpec(message: "hello", model: "acp/test"), by: .operator)
        #expect(try t.engine.wait(runId: started.runId, timeoutMs: 30_000, by: .operator).status == .completed)
        let id = try #require(try JSON.parse(t.engine.sessionJSON(sessionKey: started.sessionKey, for: .operator))["id"]?.stringValue)
        try "secret notes".write(toFile: "\(workspace)/acp/\(id)/notes.txt", atomically: true, encoding: .utf8)
        func run(_ text: String) throws -> (RunSnapshot, [RunEvent]) {
            let runId = try t.engine.prompt(sessionKey: started.sessionKey, text: text, by: .operator)
            return (try t.engine.wait(runId: runId, timeoutMs: 30_000, by: .operator), try t.engine.events(ofRun: runId, by: .operator))
        }
        let (read, readEvents) = try run("read notes.txt")
        #expect(read.finalText?.contains("secret notes") != true, "the gate blocked the read: \(read.finalText ?? "")")
        #expect(readEvents.contains { $0.kind == .hook && $0.detail["plugin"] == "fx-acp-gate" && $0.detail["reason"]?.stringValue?.contains("no reading here") == true },
                "\(readEvents.map(\.summary))")
        let (_, editEvents) = try run("write out.txt draft")
        #expect(!FileManager.default.fileExists(atPath: "\(workspace)/acp/\(id)/out.txt"), "a patch blocks: nothing was written")
        #expect(editEvents.contains { $0.kind == .hook && $0.detail["reason"]?.stringValue?.contains("cannot be rewritten") == true },
                "\(editEvents.map(\.summary))")
        let (plain, _) = try run("hello again")
        #expect(plain.finalText?.contains("You said: hello again") == true, "calls the gate lets go on still work")
        let told = "gate acp:read in \(ACPAgentSessionPath.real("\(workspace)/acp/\(id)"))"
        #expect(t.logs.contains(told), "the hook is told the agent's own workspace: \(t.logs.all.filter { $0.contains("gate ") })")
    }
}

enum ACPAgentSessionPath {
    /// `path` with symlinks resolved (the temporary directory may be one).
    static func real(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
