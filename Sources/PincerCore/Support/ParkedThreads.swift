// Threads parked between jobs instead of created per job (thread creation was
// a third of the host's CPU in the spawn benchmark). Sessions' runs drain on
// one set (the engine's), gate calls handed off from a thread that cannot run
// them inline on another (the hook registry's). A job is handed straight to an
// idle thread, or to a new one when none is idle, so no job ever waits behind
// another (a run may wait on another session's run); a thread idle past
// `idleSeconds` ends.

import Foundation

public final class ParkedThreads: @unchecked Sendable {  // every var is guarded by `lock`
    /// A parked worker's slot: the job handed to it, if any, and its own wake-up, so a
    /// submit wakes exactly the worker it chose (one condition for all woke every idle
    /// worker on each submit, and the spawn benchmark spent most of its time switching).
    private final class Slot {
        var job: (@Sendable () -> Void)?
        let wake = DispatchSemaphore(value: 0)
    }

    private let lock = NSLock()
    private var idle: [Slot] = []
    private let name: String
    private let idleSeconds: TimeInterval

    public init(name: String, idleSeconds: TimeInterval = 5) {
        self.name = name
        self.idleSeconds = idleSeconds
    }

    /// Runs `job` on a parked worker (the one parked last, whose stack is warm), or on a new one.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        lock.lock()
        if let slot = idle.popLast() {
            slot.job = job
            lock.unlock()
            slot.wake.signal()
        } else {
            lock.unlock()
            HostThreads.start(name) { [self] in work(first: job) }
        }
    }

    private func work(first: @escaping @Sendable () -> Void) {
        let slot = Slot()
        var job = first
        while true {
            job()
            lock.lock()
            idle.append(slot)
            lock.unlock()
            let deadline = DispatchTime.now() + idleSeconds
            while true {
                let timedOut = slot.wake.wait(timeout: deadline) == .timedOut
                lock.lock()
                if let next = slot.job {
                    // Handed a job (a wake-up left over from a job taken after a timeout is absorbed here).
                    slot.job = nil
                    lock.unlock()
                    job = next
                    break
                }
                if timedOut {
                    idle.removeAll { $0 === slot }
                    lock.unlock()
                    return
                }
                lock.unlock()
            }
        }
    }
}
