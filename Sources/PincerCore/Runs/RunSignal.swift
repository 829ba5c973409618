// One run's wake-up: its waiters (wait(), the run's own pauses) sleep on it,
// and only a change to that run (it ended, or was asked to stop) or a caller
// giving up wakes them — no global broadcast wakes every waiter on every
// change. A generation count makes it race-free: a waiter reads the
// generation together with the run's state (under the engine's lock), then
// sleeps only while the generation is unchanged. A provider that waits on I/O
// instead (TurnContext.onStop) observes the signal: each notify calls it too.

import Foundation

// @unchecked: `generation`, `observers` and `nextObserver` are guarded by `condition`.
final class RunSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var generation: UInt64 = 0
    private var observers: [Int: @Sendable () -> Void] = [:]
    private var nextObserver = 0

    /// The current generation, to wait past.
    var current: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return generation
    }

    /// Wakes every waiter, and calls every observer (outside the lock).
    func notify() {
        condition.lock()
        generation &+= 1
        condition.broadcast()
        let observers = self.observers.values
        condition.unlock()
        for observer in observers { observer() }
    }

    /// Calls `observer` at every notify from now on, until the returned function withdraws it.
    func observe(_ observer: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        condition.lock()
        nextObserver += 1
        let id = nextObserver
        observers[id] = observer
        condition.unlock()
        return { [self] in
            condition.lock()
            observers[id] = nil
            condition.unlock()
        }
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
