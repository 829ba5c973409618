// The engine's small parts on their own: the access policy, the guards, the
// input limits, run and session retention and the status report — each decides one thing
// and can be checked without an engine. (Through the engine they are covered
// by EngineTests, SessionToolTests and the host's tests.)

import Foundation
@testable import PincerCore
import Testing

@Suite struct EnginePartsTests {
    private func session(owner: Caller, parentKey: String? = nil, metadata: [String: JSON] = [:]) -> Session {
        var spec = SessionSpec(message: "hi")
        spec.parentKey = parentKey
        let s = Session(key: SessionKeys.make(for: owner), id: "id", owner: owner, spec: spec, model: "local/scripted", timeoutSeconds: 60)
        s.metadata = metadata
        return s
    }

    @Test func accessFollowsTheCreatorTheOperatorsGrantAndAHandedNamespace() {
        var config = EngineConfig()
        config.fullSessionAccess = ["auditor"]
        let access = AccessPolicy(config)
        let mine = session(owner: .plugin("a"))
        #expect(access.mayUse(mine, by: .plugin("a")))
        #expect(access.mayUse(mine, by: .operator))
        #expect(access.mayUse(mine, by: .plugin("auditor")))
        #expect(!access.mayUse(mine, by: .plugin("b")))
        let handed = session(owner: .plugin("a"), metadata: ["b": .object([])])
        #expect(access.mayUse(handed, by: .plugin("b")))
        #expect(!access.mayUse(handed, by: .plugin("c")))
    }

    @Test func aPluginChoosesAModelOnlyWithTheOperatorsLeave() throws {
        var config = EngineConfig()
        config.modelOverrides = ["any": nil, "some": ["m1"]]
        let access = AccessPolicy(config)
        #expect(throws: EngineError(.denied, "plugin 'none' may not choose the model ('m1'): set plugins.entries.none.allowModelOverride = true")) {
            try access.checkModelOverride("m1", defaultModel: "d", by: .plugin("none"))
        }
        try access.checkModelOverride("d", defaultModel: "d", by: .plugin("none"))
        try access.checkModelOverride("m2", defaultModel: "d", by: .plugin("any"))
        try access.checkModelOverride("m1", defaultModel: "d", by: .plugin("some"))
        #expect(throws: EngineError(.denied, "model 'm2' is not in plugins.entries.some.allowedModels (m1)")) {
            try access.checkModelOverride("m2", defaultModel: "d", by: .plugin("some"))
        }
        try access.checkModelOverride("m2", defaultModel: "d", by: .operator)
    }

    @Test func theGuardsBoundRunsAtWorkPluginSpawnsAndTheOperatorsChildren() throws {
        var config = EngineConfig()
        config.maxConcurrentRuns = 3
        config.maxConcurrentSpawns = 1
        config.maxConcurrentChildSessions = 1
        var guards = SpawnGuards(config)
        let plugin = session(owner: .plugin("p"))
        try guards.admitSpawn(by: .plugin("p"), isChild: false)
        guards.queued(in: plugin, needsWorker: true)
        #expect(throws: EngineError(.limit, "spawn refused: 1 plugin-spawned sessions are already running (guards.maxConcurrentSpawns = 1)")) {
            try guards.admitSpawn(by: .plugin("q"), isChild: false)
        }
        let child = session(owner: .operator, parentKey: "operator:parent")
        try guards.admitSpawn(by: .operator, isChild: true)
        guards.queued(in: child, needsWorker: true)
        #expect(throws: EngineError(.limit, "sessions_spawn refused: 1 child sessions of the operator's sessions are already running (guards.maxConcurrentChildSessions = 1)")) {
            try guards.admitSpawn(by: .operator, isChild: true)
        }
        let top = session(owner: .operator)
        try guards.admitSpawn(by: .operator, isChild: false)
        guards.queued(in: top, needsWorker: true)
        // Three sessions at work: every caller is refused now, the operator too, naming the setting.
        #expect(throws: EngineError(.limit, "spawn refused: 3 sessions already have a run at work, across all callers (guards.maxConcurrentRuns = 3)")) {
            try guards.admitSpawn(by: .operator, isChild: false)
        }
        let idle = session(owner: .operator)
        #expect(throws: EngineError(.limit, "prompt refused: 3 sessions already have a run at work, across all callers (guards.maxConcurrentRuns = 3)")) {
            try guards.admitPrompt(in: idle)
        }
        // A follow-up in a session already at work needs no new worker.
        top.workerActive = true
        try guards.admitPrompt(in: top)
        guards.drained(plugin)
        try guards.admitSpawn(by: .plugin("q"), isChild: false)
        #expect(guards.json["sessionsAtWork"] == JSON(2))
    }

    @Test func inputLimitsNameTheFieldAndTheLimit() {
        let catalog = try! ModelCatalog(providers: [LocalModel(tokenDelayMs: 0)], defaultModel: "local/scripted")
        var spec = SessionSpec(message: "")
        #expect(throws: EngineError(.invalidArgument, "message is empty")) { try InputLimits.check(spec, catalog: catalog) }
        spec.message = "hi"
        spec.label = String(repeating: "x", count: InputLimits.labelBytes + 1)
        #expect(throws: EngineError(.invalidArgument, "label is 257 bytes; at most 256")) { try InputLimits.check(spec, catalog: catalog) }
        spec.label = nil
        spec.timeoutSeconds = -1
        #expect(throws: EngineError(.invalidArgument, "timeout_seconds is -1; it must be 0 (the default) to 604800")) {
            try InputLimits.check(spec, catalog: catalog)
        }
        spec.timeoutSeconds = nil
        spec.metadata = ["p": .string("not an object")]
        #expect(throws: EngineError(.invalidArgument, "metadata_json.p must be a JSON object, not a string")) {
            try InputLimits.check(spec, catalog: catalog)
        }
    }

    @Test func retentionForgetsTheOldestPastTheCountOrTheBytesButNeverTheNewest() {
        var retention = RunRetention(maxRuns: 3, maxBytes: 100)
        #expect(retention.remember("a", size: 10) == [])
        #expect(retention.remember("b", size: 10) == [])
        #expect(retention.remember("c", size: 10) == [])
        #expect(retention.remember("d", size: 10) == ["a"])
        #expect(retention.remember("e", size: 75) == ["b"])
        #expect(retention.bytes == 95)
        #expect(retention.remember("huge", size: 500) == ["c", "d", "e"])
        #expect(Array(retention.remembered) == ["huge"])
    }

    /// SessionRetention's lists against plain arrays under random touches and forgets by three
    /// callers: the session it would retire is always the largest holder's first idle one (of
    /// two as large, the one whose least recent was touched earlier; past a holder with none
    /// idle, the next one's), and draining it yields the callers' sessions in that order.
    @Test func sessionRetentionRetiresTheLargestHoldersLeastRecentIdleSession() {
        var retention = SessionRetention(maxSessions: 10)
        let callers: [Caller] = [.operator, .plugin("a"), .plugin("b")]
        var expected: [Caller: [Session]] = [:]  // least recent first
        var touchedAt: [ObjectIdentifier: Int] = [:]
        let pool = (0..<60).map { i in session(owner: callers[i % callers.count]) }
        var random: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(random >> 33)
        }
        /// What the model says goes next: the first session `isIdle` accepts of the largest list
        /// that has one.
        func modelsNext(_ isIdle: (Session) -> Bool) -> Session? {
            let lists = expected.values.filter { !$0.isEmpty }.sorted { a, b in
                a.count != b.count ? a.count > b.count : touchedAt[ObjectIdentifier(a[0])]! < touchedAt[ObjectIdentifier(b[0])]!
            }
            for list in lists { if let s = list.first(where: isIdle) { return s } }
            return nil
        }
        var mismatches = 0
        for step in 0..<5000 {
            let s = pool[next() % pool.count]
            expected[s.owner, default: []].removeAll { $0 === s }
            if next() % 4 == 0 { retention.forget(s) } else {
                retention.touch(s)
                expected[s.owner, default: []].append(s)
                touchedAt[ObjectIdentifier(s)] = step
            }
            // Some sessions at work: every fifth of the pool, by its place in it; and all of one
            // caller's, then of two, so another gives way.
            let idle: (Session) -> Bool = { s in pool.firstIndex { $0 === s }! % 5 != step % 5 }
            if retention.nextToRetire(isIdle: idle) !== modelsNext(idle) { mismatches += 1 }
            let busyCaller = callers[step % callers.count], alsoBusy = callers[(step + 1) % callers.count]
            let othersIdle: (Session) -> Bool = { $0.owner != busyCaller }
            if retention.nextToRetire(isIdle: othersIdle) !== modelsNext(othersIdle) { mismatches += 1 }
            let lastIdle: (Session) -> Bool = { $0.owner != busyCaller && $0.owner != alsoBusy }
            if retention.nextToRetire(isIdle: lastIdle) !== modelsNext(lastIdle) { mismatches += 1 }
            if retention.nextToRetire(isIdle: { _ in true }) !== modelsNext({ _ in true }) { mismatches += 1 }
        }
        while let s = retention.nextToRetire(isIdle: { _ in true }) {
            if s !== modelsNext({ _ in true }) { mismatches += 1 }
            retention.forget(s)
            expected[s.owner, default: []].removeAll { $0 === s }
        }
        #expect(mismatches == 0)
        #expect(expected.values.allSatisfy { $0.isEmpty })
    }

    @Test func theStatusReportCountsWhatItIsGiven() {
        let report = StatusReport(hostVersion: "1.2.3", abiVersion: "1.0-rc2", uptimeMs: 5, plugins: [PluginSummary(id: "p", version: "0.1", state: "refused", reason: "why")],
                                  sessionStates: [.idle: 2, .streaming: 1], queuedRuns: 4, runningRuns: 1,
                                  endedRuns: [.completed: 7, .timedOut: 1], guards: ["x": 1], defaultModel: "local/scripted", modelCount: 2)
        let json = report.json
        #expect(json["version"] == "1.2.3")
        #expect(json["plugins"] == .array([["id": "p", "version": "0.1", "state": "refused", "reason": "why"]]))
        #expect(json["sessions"] == ["total": 3, "idle": 2, "streaming": 1, "compacting": 0])
        #expect(json["runs"] == ["active": 5, "queued": 4, "running": 1, "completed": 7, "failed": 0, "timedOut": 1, "cancelled": 0])
    }
}
