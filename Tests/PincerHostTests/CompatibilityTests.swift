// Plugins already built must keep working: fixtures compiled against the
// frozen copy of the 1.0 headers (Tests/Fixtures/abi/1.0) load and pass on
// the current host. A header change that breaks them fails here unless the
// copy is deliberately updated with it.

import Foundation
import PincerCore
@testable import PincerHost
import Testing

@Suite struct CompatibilityTests {
    @Test(arguments: ["follow_up", "wait_timeout", "failed_run"])
    func aPluginBuiltOnTheFrozenHeadersWorks(caseName: String) throws {
        let t = try TestHost()
        defer { t.close() }
        let record = try t.load("Tests/Fixtures/c/sessions.c", as: "frozen.so", include: Fixtures.frozenABI)
        #expect(record.state == .loaded, "\(record.reason ?? "")")
        let result = t.run("fx-sessions", caseName)
        #expect(result.passed, "\(result.report)")
    }

    @Test func aPluginBuiltOnTheFrozenHeadersRegistersToolsAndHooks() throws {
        let t = try TestHost()
        defer { t.close() }
        #expect(try t.load("Tests/Fixtures/c/tools.c", as: "tools.so", include: Fixtures.frozenABI).state == .loaded)
        #expect(t.run("fx-tools", "register").passed)
        #expect(try t.load("Tests/Fixtures/c/hooks.c", as: "hooks.so", include: Fixtures.frozenABI).state == .loaded)
        let refusals = t.run("fx-hooks", "refusals")
        #expect(refusals.passed, "\(refusals.report)")
    }
}
