// The spawn guards hold across plugins: max concurrent plugin-spawned
// sessions and max plugin spawns per sliding minute, each refusal naming the
// setting; both limits come from the operator's config.

import Foundation
import PincerCore
@testable import PincerHost
import Testing

@Suite struct SpawnGuardTests {
    @Test func theEleventhConcurrentSpawnIsRefusedByDefault() throws {
        let t = try TestHost()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/spawn.c", as: "a.so")
        _ = try t.load("Tests/Fixtures/c/spawn.c", as: "b.so", flags: ["-DFIXTURE_ID=\"fx-spawn-b\""])
        // Ten held sessions, spread over two plugins: the guard is global.
        for i in 0..<10 {
            let result = t.run(i % 2 == 0 ? "fx-spawn" : "fx-spawn-b", "hold")
            #expect(result.passed, "spawn \(i + 1): \(result.report)")
        }
        let eleventh = t.run("fx-spawn", "hold")
        #expect(eleventh.code == 2)
        #expect(eleventh.report.hasPrefix("6 spawn refused: 10 plugin-spawned sessions are already running (guards.maxConcurrentSpawns = 10)"),
                "\(eleventh.report)")
        // The operator is not held to plugin guards.
        #expect(throws: Never.self) { try t.engine.spawn(SessionSpec(message: "operator"), by: .operator) }
    }

    @Test func theTwentyFirstSpawnInAMinuteIsRefusedByDefault() throws {
        let t = try TestHost()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/spawn.c", as: "a.so")
        for i in 0..<20 {
            let result = t.run("fx-spawn", "quick")
            #expect(result.passed, "spawn \(i + 1): \(result.report)")
        }
        let refused = t.run("fx-spawn", "quick")
        #expect(refused.code == 2)
        #expect(refused.report.contains("20 plugin spawns in the last minute (guards.maxSpawnsPerMinute = 20); retry in"), "\(refused.report)")
    }

    @Test func limitsComeFromTheOperatorConfig() throws {
        let config = try OperatorConfig.parse(#"{"guards": {"maxConcurrentSpawns": 2, "maxSpawnsPerMinute": 3}}"#, source: "g.json")
        let t = try TestHost(config: config)
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/spawn.c", as: "a.so")
        let first = t.run("fx-spawn", "hold"), second = t.run("fx-spawn", "hold")
        #expect(first.passed && second.passed)
        let third = t.run("fx-spawn", "hold")
        #expect(third.report.contains("(guards.maxConcurrentSpawns = 2)"), "\(third.report)")
        // Ending a held session frees its slot; the per-minute window still counts it.
        try t.engine.deleteSession(first.report, by: .operator)
        let deadline = Date().addingTimeInterval(5)
        var again = t.run("fx-spawn", "hold")
        while !again.passed, again.report.contains("maxConcurrentSpawns"), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
            again = t.run("fx-spawn", "hold")
        }
        #expect(again.passed, "\(again.report)")
        try t.engine.deleteSession(second.report, by: .operator)
        try t.engine.deleteSession(again.report, by: .operator)
        Thread.sleep(forTimeInterval: 0.05)
        let fourth = t.run("fx-spawn", "hold")
        #expect(fourth.report.contains("3 plugin spawns in the last minute (guards.maxSpawnsPerMinute = 3)"), "\(fourth.report)")
    }
}
