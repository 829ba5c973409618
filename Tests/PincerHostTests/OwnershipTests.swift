// A plugin uses only the sessions it created or was handed a namespace on, and
// chooses a model only with the operator's leave; every refusal names the
// setting that would allow it.

import Foundation
import PincerCore
@testable import PincerHost
import Testing

@Suite struct OwnershipTests {
    @Test func aPluginCannotReachAnotherCallersSessions() throws {
        let t = try TestHost()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/ownership.c", as: "a.so", flags: ["-DFIXTURE_ID=\"fx-owner-a\""])
        _ = try t.load("Tests/Fixtures/c/ownership.c", as: "b.so", flags: ["-DFIXTURE_ID=\"fx-owner-b\""])
        let own = t.run("fx-owner-a", "own")
        #expect(own.passed, "\(own.report)")
        let intrusion = t.run("fx-owner-b", "intrude:\(own.report)")
        #expect(intrusion.passed, "\(intrusion.report)")
        // The operator's sessions are out of reach too.
        let started = try t.engine.spawn(SessionSpec(message: "operator's"), by: .operator)
        let onOperator = t.run("fx-owner-b", "intrude:\(started.sessionKey) \(started.runId)")
        #expect(onOperator.passed, "\(onOperator.report)")
        // Nothing the intruder tried changed the session: its one run completes, alone.
        let parts = own.report.split(separator: " ").map(String.init)
        #expect(try t.engine.wait(runId: parts[1], timeoutMs: 10_000, by: .operator).status == .completed)
        #expect(try t.engine.transcript(sessionKey: parts[0], by: .operator).filter { $0.role == .user || $0.role == .steer }.count == 1)
    }

    @Test func sessionAccessAllLetsAPluginReachEverySession() throws {
        let config = try OperatorConfig.parse(#"{"plugins": {"entries": {"fx-owner-b": {"sessionAccess": "all"}}}}"#, source: "o.json")
        let t = try TestHost(config: config)
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/ownership.c", as: "a.so", flags: ["-DFIXTURE_ID=\"fx-owner-a\""])
        _ = try t.load("Tests/Fixtures/c/ownership.c", as: "b.so", flags: ["-DFIXTURE_ID=\"fx-owner-b\""])
        let own = t.run("fx-owner-a", "own")
        let reach = t.run("fx-owner-b", "reach:\(own.report)")
        #expect(reach.passed, "\(reach.report)")
    }

    @Test func handingAPluginANamespaceSharesTheSessionWithItAlone() throws {
        let t = try TestHost()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/ownership.c", as: "a.so", flags: ["-DFIXTURE_ID=\"fx-owner-a\""])
        _ = try t.load("Tests/Fixtures/c/ownership.c", as: "b.so", flags: ["-DFIXTURE_ID=\"fx-owner-b\""])
        let shared = try t.engine.spawn(SessionSpec(message: "shared @sleep{\"ms\":300}", metadata: ["fx-owner-b": ["group": "g1"]]),
                                        by: .operator)
        // The plugin not handed a namespace still finds nothing...
        let outsider = t.run("fx-owner-a", "intrude:\(shared.sessionKey) \(shared.runId)")
        #expect(outsider.passed, "\(outsider.report)")
        // ...the one handed it uses the session as its own: is_streaming, steer, prompt, wait, read, delete.
        let holder = t.run("fx-owner-b", "reach:\(shared.sessionKey) \(shared.runId)")
        #expect(holder.passed, "\(holder.report)")
    }

    @Test func eachPluginSeesOnlyItsOwnMetadataNamespace() throws {
        let config = try OperatorConfig.parse(#"{"plugins": {"entries": {"fx-owner-b": {"sessionAccess": "all"}}}}"#, source: "o.json")
        let t = try TestHost(config: config)
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/ownership.c", as: "a.so", flags: ["-DFIXTURE_ID=\"fx-owner-a\""])
        _ = try t.load("Tests/Fixtures/c/ownership.c", as: "b.so", flags: ["-DFIXTURE_ID=\"fx-owner-b\""])
        let key = String(t.run("fx-owner-a", "own").report.split(separator: " ")[0])
        #expect(t.run("fx-owner-a", "meta:\(key) {\"ticket\":\"A-1\"}").passed)
        #expect(t.run("fx-owner-b", "meta:\(key) {\"score\":2}").passed)
        #expect(t.run("fx-owner-a", "meta_get:\(key)").report == "{\"ticket\":\"A-1\"}")
        #expect(t.run("fx-owner-b", "meta_get:\(key)").report == "{\"score\":2}")
        #expect(try t.engine.metadata(sessionKey: key, by: .operator) == .object([]))
    }

    @Test func aModelOverrideNeedsTheOperatorsLeave() throws {
        let t = try TestHost()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/spawn.c", as: "spawn.so")
        let result = t.run("fx-spawn", "model_not_granted")
        #expect(result.passed, "\(result.report)")
    }

    @Test func allowedModelsNarrowTheOverride() throws {
        let config = try OperatorConfig.parse(
            #"{"plugins": {"entries": {"fx-spawn": {"allowModelOverride": true, "allowedModels": ["local/instant"]}}}}"#, source: "o.json")
        let t = try TestHost(config: config)
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/spawn.c", as: "spawn.so")
        let result = t.run("fx-spawn", "model_narrowed")
        #expect(result.passed, "\(result.report)")
    }
}
