// Fails inline gate calls closed at their deadlines. The thread in such a call
// is in plugin code and cannot be interrupted, so a thread of the watchdog's
// own notices the deadline and fires the call's alarm (which moves its run on
// to another worker). One thread for the whole registry, asleep until the
// earliest armed deadline and gone after a few idle seconds; arming and
// disarming take one lock (a handful of calls are in flight: at most one per
// plugin's gate lane, plus nested ones).

import Foundation

// @unchecked: every var is guarded by `condition`.
final class GateWatchdog: @unchecked Sendable {
    final class Alarm {
        fileprivate let deadlineNs: UInt64
        fileprivate let fire: @Sendable () -> Void
        fileprivate init(deadlineNs: UInt64, fire: @escaping @Sendable () -> Void) {
            self.deadlineNs = deadlineNs
            self.fire = fire
        }
    }

    private let condition = NSCondition()
    private var armed: [Alarm] = []
    private var running = false
    /// The deadline the thread sleeps until (0 while it is awake): arming an earlier one wakes it.
    private var sleepingUntilNs: UInt64 = 0
    private static let idleNs: UInt64 = 5_000_000_000

    /// Fires `fire` at `deadlineNs` (MonotonicClock) unless disarmed first.
    func arm(at deadlineNs: UInt64, _ fire: @escaping @Sendable () -> Void) -> Alarm {
        let alarm = Alarm(deadlineNs: deadlineNs, fire: fire)
        condition.lock()
        armed.append(alarm)
        if !running {
            running = true
            HostThreads.start("pincer-watchdog") { [self] in watch() }
        } else if deadlineNs < sleepingUntilNs {
            condition.signal()
        }
        condition.unlock()
        return alarm
    }

    /// Whether the alarm was disarmed before it fired.
    func disarm(_ alarm: Alarm) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let index = armed.firstIndex(where: { $0 === alarm }) else { return false }
        armed.remove(at: index)
        return true
    }

    private func watch() {
        condition.lock()
        var idleSinceNs = MonotonicClock.nanoseconds()
        while true {
            let now = MonotonicClock.nanoseconds()
            let due = armed.filter { $0.deadlineNs <= now }
            if !due.isEmpty {
                armed.removeAll { $0.deadlineNs <= now }
                sleepingUntilNs = 0
                condition.unlock()
                for alarm in due { alarm.fire() }
                condition.lock()
                continue
            }
            if armed.isEmpty {
                if now &- idleSinceNs >= GateWatchdog.idleNs {
                    running = false
                    condition.unlock()
                    return
                }
                sleepingUntilNs = idleSinceNs &+ GateWatchdog.idleNs
            } else {
                idleSinceNs = now
                sleepingUntilNs = armed.lazy.map(\.deadlineNs).min()!
            }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(sleepingUntilNs &- now) / 1e9))
            sleepingUntilNs = 0
        }
    }
}
