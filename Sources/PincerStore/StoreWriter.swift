// Group commit: the engine hands each boundary's write to the store, which
// queues it here (cheap, under the engine's lock), and one thread commits
// everything queued in a single transaction. Under load many runs share one commit, and no engine
// thread waits on the disk. Writes keep their order; wait() on a run returns
// only once the run's final state is committed; shutdown flushes.

import Foundation
import PincerCore

// @unchecked: its queue and counters are guarded by `condition`; `apply` runs on its thread only.
final class StoreWriter: @unchecked Sendable {
    private let apply: @Sendable ([StoreOperation]) throws(EngineError) -> Void
    private let log: @Sendable (String) -> Void
    /// Told each transaction's duration in nanoseconds (the engine's store commit latency).
    private let reportCommit: @Sendable (UInt64) -> Void
    private let condition = NSCondition()
    private var queue: [StoreOperation] = []
    /// Sequence numbers: of the last operation queued, and of the last one committed.
    private var queued: UInt64 = 0
    private var committed: UInt64 = 0
    private var stopping = false
    private var stopped = false
    /// The writer is waiting for work: only then does a new operation need to wake anyone.
    /// (Waking on every enqueue also woke every thread waiting for a commit, for nothing.)
    private var writerIdle = false

    /// `apply` commits a list of operations in one transaction; it runs on the writer's thread only.
    init(apply: @escaping @Sendable ([StoreOperation]) throws(EngineError) -> Void, committed: @escaping @Sendable (UInt64) -> Void,
         log: @escaping @Sendable (String) -> Void)
    {
        self.apply = apply
        self.reportCommit = committed
        self.log = log
        HostThreads.start("pincer-store-writer") { [self] in loop() }
    }

    /// Queues an operation; returns its sequence number.
    @discardableResult
    func enqueue(_ operation: StoreOperation) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        queue.append(operation)
        queued += 1
        if writerIdle { condition.broadcast() }
        return queued
    }

    /// Blocks until everything up to `sequence` is committed (or failed and was logged).
    func waitUntilCommitted(_ sequence: UInt64) {
        condition.lock()
        defer { condition.unlock() }
        while committed < sequence, !stopped { condition.wait() }
    }

    /// Commits what is queued, then stops the thread.
    func close() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while true {
            while queue.isEmpty, !stopping {
                writerIdle = true
                condition.wait()
                writerIdle = false
            }
            if queue.isEmpty, stopping { break }
            let operations = queue
            let last = queued
            queue.removeAll(keepingCapacity: true)
            condition.unlock()
            let startedNs = MonotonicClock.nanoseconds()
            do { try apply(operations) } catch { log(error.message) }
            reportCommit(MonotonicClock.nanoseconds() - startedNs)
            condition.lock()
            committed = last
            condition.broadcast()
        }
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
