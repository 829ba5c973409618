// The parked run workers: a job goes to the worker parked last (its thread is reused),
// a blocked job never holds up another, and a worker idle past its time ends.

import Foundation
@testable import PincerCore
import Synchronization
import Testing

@Suite struct ParkedThreadsTests {
    private final class Record: Sendable {
        /// The identity of each job's thread, in order: a mark its thread keeps (tids and
        /// thread addresses can be reused once a thread ends).
        let threads = Mutex<[String]>([])
        func note() {
            let mark = Thread.current.threadDictionary["test-mark"] as? String ?? UUID().uuidString
            Thread.current.threadDictionary["test-mark"] = mark
            threads.withLock { $0.append(mark) }
        }
    }

    /// Submits a job that notes its thread, and waits for it.
    private func runOne(on pool: ParkedThreads, _ record: Record) {
        let done = DispatchSemaphore(value: 0)
        pool.submit { record.note(); done.signal() }
        done.wait()
    }

    @Test func sequentialJobsReuseOneParkedThread() {
        let pool = ParkedThreads(name: "test-parked", idleSeconds: 5)
        let record = Record()
        for _ in 0..<20 {
            runOne(on: pool, record)
            // Let the worker park before the next submit, so the next job must find it parked.
            Thread.sleep(forTimeInterval: 0.002)
        }
        #expect(Set(record.threads.withLock { $0 }).count == 1)
    }

    @Test func aBlockedJobNeverHoldsUpAnother() {
        let pool = ParkedThreads(name: "test-parked", idleSeconds: 5)
        let release = DispatchSemaphore(value: 0), blockedStarted = DispatchSemaphore(value: 0)
        pool.submit { blockedStarted.signal(); release.wait() }
        blockedStarted.wait()
        let other = DispatchSemaphore(value: 0)
        pool.submit { other.signal() }
        #expect(other.wait(timeout: .now() + 5) == .success)
        release.signal()
    }

    @Test func aWorkerIdlePastItsTimeEndsAndTheNextJobGetsANewThread() {
        let pool = ParkedThreads(name: "test-parked", idleSeconds: 0.1)
        let record = Record()
        runOne(on: pool, record)
        Thread.sleep(forTimeInterval: 0.01)
        runOne(on: pool, record) // parked: the same thread
        Thread.sleep(forTimeInterval: 0.4)
        runOne(on: pool, record) // the worker ended: a new thread
        let threads = record.threads.withLock { $0 }
        #expect(threads[0] == threads[1])
        #expect(threads[2] != threads[1])
    }
}
