// The observer lane on its own terms: an observer that falls behind loses the
// newest events past the lane's bound (and the host says so) instead of
// growing without limit, while the run it observes goes on unhindered.

import Foundation
@testable import PincerCore
import Synchronization
import Testing

@Suite struct ObserverLaneTests {
    @Test func anObserverLaneHoldsABoundedNumberOfBytes() {
        let lane = ObserverLane(name: "bytes")
        defer { lane.close() }
        let hold = DispatchSemaphore(value: 0)
        _ = lane.post(bytes: 0) { hold.wait() } // the lane is busy with this one
        usleep(50_000)
        let megabyte = 1 << 20
        let accepted = (0..<100).filter { _ in lane.post(bytes: megabyte) {} == 0 }.count
        #expect(accepted == HookLimits.maxQueuedBytes / megabyte)
        hold.signal()
    }

    @Test func aStuckObserverLosesEventsPastTheBoundAndTheRunGoesOn() throws {
        let lines = Mutex<[String]>([])
        let e = try Engine.quick()
        e.setLog { line in lines.withLock { $0.append(line) } }
        defer { e.shutdown() }
        let release = DispatchSemaphore(value: 0)
        let delivered = Atomic<Int>(0)
        e.hooks.register(Hook(plugin: "slow", point: .runEvent, priority: 0, deadlineMs: 0, seesAllSessions: true) { _ in
            if delivered.add(1, ordering: .relaxed).newValue == 1 { release.wait() }
            return .proceed(patch: nil)
        })
        // One word is one streamed token: far more text deltas than the lane holds.
        let words = HookLimits.maxQueuedEvents + 2000
        let started = try e.spawn(SessionSpec(message: Array(repeating: "w", count: words).joined(separator: " ")), by: .operator)
        #expect(try e.wait(runId: started.runId, timeoutMs: 30_000, by: .operator).status == .completed)
        let drops = lines.withLock { $0.filter { $0.contains("hook events dropped so far") } }
        #expect(drops.first == "plugin 'slow': 1 hook events dropped so far: its observer lane is full (at most \(HookLimits.maxQueuedEvents) events and \(HookLimits.maxQueuedBytes) bytes) or closed")
        release.signal()
        // What was queued is still delivered, in full, once the observer moves again.
        let deadline = Date().addingTimeInterval(10)
        while delivered.load(ordering: .relaxed) < HookLimits.maxQueuedEvents + 1, Date() < deadline { usleep(1000) }
        #expect(delivered.load(ordering: .relaxed) == HookLimits.maxQueuedEvents + 1)
    }
}
