// One run's wake-up: its waiters (wait(), the run's own pauses) sleep on it,
// and only a change to that run (it ended, or was asked to stop) or a caller
// giving up wakes them — no global broadcast wakes every waiter on every
// change. A generation count makes it race-free: a waiter reads the
// generation together with the run's state (under the engine's lock), then
// sleeps only while the generation is unchanged.

import Foundation

// @unchecked: `generation` is guarded by `condition`.
final class RunSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var generation: UInt64 = 0

    /// The current generation, to wait past.
    var current: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return generation
    }

    /// Wakes every waiter.
    func notify() {
        condition.lock()
        generation &+= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Sleeps until the generation passes `seen` or `deadlineNs` (MonotonicClock) comes;
    /// false when the deadline came first.
    @discardableResult
    func wait(past seen: UInt64, untilNs deadlineNs: UInt64) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while generation == seen {
            let now = MonotonicClock.nanoseconds()
            if now >= deadlineNs { return false }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadlineNs - now) / 1e9))
        }
        return true
    }
}
