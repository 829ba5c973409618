// The gate lane on its own terms: a tool-call gate runs inline on the run's
// worker, any other gate on a parked thread; a plugin's gate calls never
// overlap; a gate stuck past its deadline fails closed at the deadline while
// the run goes on on another worker, the plugin's later gates block at once
// until it returns, and its late answer never gets in.

import Foundation
@testable import PincerCore
import Synchronization
import Testing

@Suite struct GateLaneTests {
    /// The kernel's name of the calling thread (HostThreads names the host's).
    private static var threadName: String {
        (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
    }

    @Test func aToolCallGateRunsOnTheRunsWorkerAndASpawnGateOnAParkedThread() throws {
        let e = try Engine.quick()
        defer { e.shutdown() }
        let threads = Mutex<[HookPoint: String]>([:])
        for point in [HookPoint.beforeToolCall, .beforeSessionCreate] {
            e.hooks.register(Hook(plugin: "policy", point: point, priority: 0, deadlineMs: 1000, seesAllSessions: true) { event in
                threads.withLock { $0[event.point] = GateLaneTests.threadName }
                return .proceed(patch: nil)
            })
        }
        let started = try e.spawn(SessionSpec(message: #"@echo{"text":"hi"}"#), by: .operator)
        #expect(try e.wait(runId: started.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        #expect(threads.withLock { $0 } == [.beforeToolCall: "pincer-run", .beforeSessionCreate: "pincer-gate"])
    }

    @Test func aPluginsGateCallsNeverOverlapAcrossConcurrentRuns() throws {
        let e = try Engine.quick()
        defer { e.shutdown() }
        let inside = Atomic<Int>(0), most = Atomic<Int>(0), calls = Atomic<Int>(0)
        e.hooks.register(Hook(plugin: "policy", point: .beforeToolCall, priority: 0, deadlineMs: 5000, seesAllSessions: true) { _ in
            let now = inside.add(1, ordering: .acquiringAndReleasing).newValue
            _ = most.max(now, ordering: .relaxed)
            usleep(200)
            inside.subtract(1, ordering: .acquiringAndReleasing)
            calls.add(1, ordering: .relaxed)
            return .proceed(patch: nil)
        })
        let message = Array(repeating: #"@echo{"text":"x"}"#, count: 10).joined(separator: " ")
        let runs = try (0..<8).map { _ in try e.spawn(SessionSpec(message: message), by: .operator).runId }
        for run in runs { #expect(try e.wait(runId: run, timeoutMs: 30_000, by: .operator).status == .completed) }
        #expect(calls.load(ordering: .relaxed) == 8 * 10)
        #expect(most.load(ordering: .relaxed) == 1, "gate calls of one plugin overlapped")
    }

    @Test func aStuckGateFailsClosedAtItsDeadlineTheRunGoesOnAndTheLateAnswerNeverGetsIn() throws {
        let e = try Engine.quick()
        defer { e.shutdown() }
        let lines = Mutex<[String]>([])
        e.setLog { line in lines.withLock { $0.append(line) } }
        let release = DispatchSemaphore(value: 0)
        let stuckThread = Mutex<String?>(nil)
        e.hooks.register(Hook(plugin: "policy", point: .beforeToolCall, priority: 0, deadlineMs: 200, seesAllSessions: true) { event in
            guard event.payload["arguments"]?["text"]?.stringValue == "stuck" else { return .proceed(patch: nil) }
            stuckThread.withLock { $0 = GateLaneTests.threadName }
            release.wait()
            // Too late: had it got in, the call would run with this text.
            return .proceed(patch: ["arguments": ["text": "late answer"]])
        })
        let began = Date()
        let first = try e.spawn(SessionSpec(message: #"@echo{"text":"stuck"} @echo{"text":"next"}"#), by: .operator)
        #expect(try e.wait(runId: first.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        let took = Date().timeIntervalSince(began)
        #expect(took >= 0.2 && took < 2, "the run took \(took) s past a gate with a 200 ms deadline")
        #expect(stuckThread.withLock { $0 } == "pincer-run")
        let results = try e.transcript(sessionKey: first.sessionKey, by: .operator).filter { $0.role == .tool }
        #expect(results.count == 2)
        #expect(results.first?.content == "tool 'echo' blocked: plugin 'policy' (before_tool_call hook) did not answer within its deadline of 200 ms")
        // The stuck call still holds the lane: the plugin's next gate blocks at once, saying why.
        #expect(results.last?.isError == true)
        #expect(results.last?.content.contains("one of its gate calls has been running") == true, "\(results.last?.content ?? "")")
        #expect(results.last?.content.contains("past its deadline, and until it returns the plugin's gates block at once") == true)
        let blockedEvents = try e.events(ofRun: first.runId, by: .operator).filter { $0.kind == .hook }
        #expect(blockedEvents.count == 2)

        release.signal()
        // Once it returns, its answer is dropped and the plugin's gates answer again.
        let deadline = Date().addingTimeInterval(5)
        var again: [Message] = []
        repeat {
            let next = try e.spawn(SessionSpec(message: #"@echo{"text":"after"}"#), by: .operator)
            #expect(try e.wait(runId: next.runId, timeoutMs: 10_000, by: .operator).status == .completed)
            again = try e.transcript(sessionKey: next.sessionKey, by: .operator).filter { $0.role == .tool }
        } while again.first?.isError == true && Date() < deadline
        #expect(again.first?.content == "after")
        #expect(try e.transcript(sessionKey: first.sessionKey, by: .operator).allSatisfy { !$0.content.contains("late answer") })
        #expect(lines.withLock { $0.contains("blocked: plugin 'policy' (before_tool_call hook) did not answer within its deadline of 200 ms") })
    }
}
