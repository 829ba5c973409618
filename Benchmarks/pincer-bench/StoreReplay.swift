// The store's writer alone: the exact writes an engine makes for one-turn runs
// (recorded by a store that keeps them in a list), replayed into an SQLite
// store in chunks of 200 runs' writes, each waited for, as the runs figure
// spawns and waits. The process's CPU time over the replay, per run, is what
// the writer spends, apart from the engine's own work and its noise.
//
// And how many commits the engine's writer makes while runs are measured: the
// writer commits whatever is queued when it is free, so its commits are as
// large as the engine makes them, and a commit's cost is mostly fixed (each
// B-tree's last page goes to the WAL again), so the store floor is measured
// at that size too.

import CoreMetrics
import Foundation
import PincerCore
import PincerStore
import Synchronization

/// A metrics backend that counts the store's commits (its commit-duration timer) and drops
/// everything else; both sides of the runs figure use it, so both pay the same.
final class CommitCounter: MetricsFactory {
    private final class CountingTimer: TimerHandler {
        let count = Atomic<Int>(0)
        func recordNanoseconds(_ duration: Int64) { count.add(1, ordering: .relaxed) }
    }

    private let commits = CountingTimer()
    private let none = NOOPMetricsHandler.instance
    /// Commits recorded so far.
    var count: Int { commits.count.load(ordering: .relaxed) }

    func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        label == "pincer_store_commit_duration_seconds" ? commits : none
    }
    func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler { none }
    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> FloatingPointCounterHandler { none }
    func makeMeter(label: String, dimensions: [(String, String)]) -> MeterHandler { none }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler { none }
    func destroyCounter(_ handler: CounterHandler) {}
    func destroyMeter(_ handler: MeterHandler) {}
    func destroyFloatingPointCounter(_ handler: FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: RecorderHandler) {}
    func destroyTimer(_ handler: TimerHandler) {}
}

/// Keeps every write it is handed; reads back nothing.
final class RecordingStore: SessionStore {
    let operations = Mutex<[StoreOperation]>([])

    func load(runLimit: Int) throws(EngineError) -> StoredState { StoredState(sessions: [], runs: [], interrupted: 0) }
    func startWriting(committed: @escaping @Sendable (UInt64) -> Void, log: @escaping @Sendable (String) -> Void) {}
    func enqueue(_ operation: StoreOperation) -> UInt64 {
        operations.withLock { operations in
            operations.append(operation)
            return UInt64(operations.count)
        }
    }
    func waitUntilCommitted(_ ticket: UInt64) {}
    func close() {}
}

/// Microseconds of CPU per run the SQLite store spends writing `runs` runs' recorded writes.
func storeWriterCPUPerRun(_ operations: [StoreOperation], runs: Int, path: String) throws -> Double {
    let store = try SQLiteStore(path: path)
    _ = try store.load(runLimit: 1)
    store.startWriting(committed: { _ in }, log: { line in progress("store: \(line)") })
    defer { store.close() }
    let chunk = max(1, operations.count * 200 / max(1, runs))
    let startCPU = ProcessCPUClock.nanoseconds()
    var next = 0
    while next < operations.count {
        var ticket: UInt64 = 0
        for operation in operations[next..<min(next + chunk, operations.count)] { ticket = store.enqueue(operation) }
        store.waitUntilCommitted(ticket)
        next += chunk
    }
    return Double(ProcessCPUClock.nanoseconds() - startCPU) / 1e3 / Double(runs)
}
