// What an operator sees: the engine's figures through swift-metrics (read
// here with MetricsTestKit) and its lines through swift-log, printed as the
// host always has, with the session and run as metadata.

import Foundation
import Logging
import MetricsTestKit
@testable import PincerCore
import PincerStore
import Synchronization
import Testing

@Suite struct ObservabilityTests {
    @Test func runsHooksSessionsLimiterKeysAndStoreCommitsAreCounted() throws {
        let metrics = TestMetrics()
        let dir = NSTemporaryDirectory() + "pincer-metrics-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let e = try Engine.quick(store: try SQLiteStore(path: "\(dir)/s.sqlite"), metrics: metrics) { $0.maxSessions = 2 }
        defer { e.shutdown() }
        // Cancelled before the gate exists: whether it reached its tool call first does not count.
        let cancelled = try e.spawn(SessionSpec(message: #"@sleep{"ms":5000}"#), by: .operator)
        try e.cancelRun(cancelled.runId, by: .operator)
        #expect(try e.wait(runId: cancelled.runId, timeoutMs: 10_000, by: .operator).status == .cancelled)
        e.hooks.register(Hook(plugin: "policy", point: .beforeToolCall, priority: 0, deadlineMs: 1000, seesAllSessions: true) { event in
            event.payload["arguments"]?["text"]?.stringValue == "no" ? .block(reason: "no") : .proceed(patch: nil)
        })
        let ok = try e.spawn(SessionSpec(message: #"@echo{"text":"yes"} @echo{"text":"no"}"#), by: .operator)
        #expect(try e.wait(runId: ok.runId, timeoutMs: 10_000, by: .operator).status == .completed)

        #expect(try metrics.expectCounter("pincer_runs_total", [("status", "completed")]).totalValue == 1)
        #expect(try metrics.expectCounter("pincer_runs_total", [("status", "cancelled")]).totalValue == 1)
        #expect(try metrics.expectTimer("pincer_hook_duration_seconds", [("point", "before_tool_call")]).values.count == 2)
        #expect(try metrics.expectGauge("pincer_sessions").lastValue == 2)
        #expect(try metrics.expectTimer("pincer_store_commit_duration_seconds").values.count >= 1)
        // A third session passes engine.maxSessions = 2: the least recently active idle one goes.
        let third = try e.spawn(SessionSpec(message: "hi"), by: .operator)
        _ = try e.wait(runId: third.runId, timeoutMs: 10_000, by: .operator)
        #expect(try metrics.expectCounter("pincer_sessions_retired_total").totalValue == 1)
        #expect(try metrics.expectGauge("pincer_sessions").lastValue == 2)

        let limiter = e.rateLimiter(forPlugin: "p")
        for key in ["a", "b", "a"] { _ = limiter.check(key: key, maxRequests: 5, windowMs: 1000) }
        #expect(try metrics.expectGauge("pincer_rate_limit_keys", [("plugin", "p")]).lastValue == 2)
    }

    /// A session deleted while its run is at work is gone for good: the run's end does not put it
    /// back in the order of activity, so it is never retired (nor counted) afterwards.
    @Test func aSessionDeletedAtWorkIsNeverRetiredAfterwards() throws {
        let metrics = TestMetrics()
        let e = try Engine.quick(metrics: metrics) { $0.maxSessions = 2 }
        defer { e.shutdown() }
        let busy = try e.spawn(SessionSpec(message: #"@sleep{"ms":5000}"#), by: .operator)
        try e.deleteSession(busy.sessionKey, by: .operator)
        #expect(try e.wait(runId: busy.runId, timeoutMs: 10_000, by: .operator).status == .cancelled)
        var keys: [String] = []
        for _ in 0..<3 {
            let s = try e.spawn(SessionSpec(message: "hi"), by: .operator)
            _ = try e.wait(runId: s.runId, timeoutMs: 10_000, by: .operator)
            keys.append(s.sessionKey)
        }
        #expect(try metrics.expectCounter("pincer_sessions_retired_total").totalValue == 1)
        #expect(Set(e.sessionKeys) == Set(keys.suffix(2)))
    }

    @Test func hostLinesCarryTheSessionAndRunAndPluginLinesKeepLogHsFormat() throws {
        let line: (String, Logger.Level, Logger.Metadata) -> String = { label, level, metadata in
            HostLogHandler.format(label: label, level: level, message: "the message", metadata: metadata)
        }
        #expect(line("pincer", .notice, ["session": "s1", "run": "r1"]) == "pincer: the message (run=r1 session=s1)")
        #expect(line(HostLogHandler.pluginLabel, .info, ["plugin": "p"]) == "[p] the message")
        #expect(line(HostLogHandler.pluginLabel, .warning, ["plugin": "p"]) == "[p] warn: the message")
        #expect(line(HostLogHandler.pluginLabel, .error, ["plugin": "p", "session": "s"]) == "[p] error: the message (session=s)")

        // Through the engine: a denied tool call names its session and run as metadata.
        let e = try Engine.quick { $0.toolPolicy = ToolPolicy(deny: ["clock"]) }
        defer { e.shutdown() }
        let lines = Mutex<[String]>([])
        e.setLog { line in lines.withLock { $0.append(line) } }
        let run = try e.spawn(SessionSpec(message: "@clock"), by: .operator)
        #expect(try e.wait(runId: run.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        let denied = lines.withLock { $0.first { $0.contains("clock") } }
        #expect(denied?.hasSuffix("(run=\(run.runId) session=\(run.sessionKey))") == true, "\(denied ?? "no line")")
    }
}
