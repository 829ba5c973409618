// Threads parked between jobs instead of created per job (thread creation was
// a third of the host's CPU in the spawn benchmark). Sessions' runs drain on
// one set (the engine's), gate calls handed off from a thread that cannot run
// them inline on another (the hook registry's). A job is handed straight to an
// idle thread, or to a new one when none is idle, so no job ever waits behind
// another (a run may wait on another session's run); a thread idle past
// `idleSeconds` ends.

import Foundation

public final class ParkedThreads: @unchecked Sendable {  // every var is guarded by `condition`
    /// A parked worker's slot: the job handed to it, if any.
    private final class Slot {
        var job: (@Sendable () -> Void)?
    }

    private let condition = NSCondition()
    private var idle: [Slot] = []
    private let name: String
    private let idleSeconds: TimeInterval

    public init(name: String, idleSeconds: TimeInterval = 5) {
        self.name = name
        self.idleSeconds = idleSeconds
    }

    /// Runs `job` on a parked worker, or on a new one.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        if let slot = idle.popLast() {
            slot.job = job
            condition.broadcast()
            condition.unlock()
        } else {
            condition.unlock()
            HostThreads.start(name) { [self] in work(first: job) }
        }
    }

    private func work(first: @escaping @Sendable () -> Void) {
        let slot = Slot()
        var job = first
        while true {
            job()
            condition.lock()
            idle.append(slot)
            let deadline = Date().addingTimeInterval(idleSeconds)
            while slot.job == nil {
                if !condition.wait(until: deadline), slot.job == nil {
                    idle.removeAll { $0 === slot }
                    condition.unlock()
                    return
                }
            }
            job = slot.job!
            slot.job = nil
            condition.unlock()
        }
    }
}
