// Group commit: the engine hands each boundary's write to this writer (cheap,
// under the engine's lock), and one thread commits everything queued in a
// single transaction. Under load many runs share one commit, and no engine
// thread waits on the disk. Writes keep their order; wait() on a run returns
// only once the run's final state is committed; shutdown flushes.

import CoreMetrics
import Foundation

// @unchecked: its queue and counters are guarded by `condition`; the store is touched by its thread only.
public final class StoreWriter: @unchecked Sendable {
    public enum Operation: Sendable {
        case batch(StoreBatch)
        case deleteSession(String)
        /// A compacted transcript replaces the stored one.
        case replaceTranscript(sessionKey: String, messages: [Message])
    }

    private let store: any SessionStore
    private let log: @Sendable (String) -> Void
    /// Times each transaction (pincer_store_commit_duration_seconds).
    private let commitTimer: CoreMetrics.Timer
    private let condition = NSCondition()
    private var queue: [Operation] = []
    /// Sequence numbers: of the last operation queued, and of the last one committed.
    private var queued: UInt64 = 0
    private var committed: UInt64 = 0
    private var stopping = false
    private var stopped = false

    init(store: any SessionStore, commitTimer: CoreMetrics.Timer, log: @escaping @Sendable (String) -> Void) {
        self.commitTimer = commitTimer
        self.store = store
        self.log = log
        HostThreads.start("pincer-store-writer") { [self] in loop() }
    }

    /// Queues an operation; returns its sequence number.
    @discardableResult
    func enqueue(_ operation: Operation) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        queue.append(operation)
        queued += 1
        condition.broadcast()
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
            while queue.isEmpty, !stopping { condition.wait() }
            if queue.isEmpty, stopping { break }
            let operations = queue
            let last = queued
            queue.removeAll(keepingCapacity: true)
            condition.unlock()
            let startedNs = MonotonicClock.nanoseconds()
            do { try store.apply(operations) } catch { log(error.message) }
            commitTimer.recordNanoseconds(Int64(clamping: MonotonicClock.nanoseconds() - startedNs))
            condition.lock()
            committed = last
            condition.broadcast()
        }
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
