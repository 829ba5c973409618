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
            // Let the worker park before the next submit, so the next job finds it parked.
            Thread.sleep(forTimeInterval: 0.005)
        }
        // One thread; two if the machine was too busy for the worker to park in time once.
        // A thread per job (what the pool exists to avoid) would show twenty.
        #expect(Set(record.threads.withLock { $0 }).count <= 2)
    }

    /// Submits racing the idle timeout (1 ms): every job runs, and runs once.
    @Test func jobsRacingTheIdleTimeoutRunExactlyOnce() {
        let pool = ParkedThreads(name: "test-parked", idleSeconds: 0.001)
        let total = 2000
        let runs = Mutex<[Int]>(Array(repeating: 0, count: total))
        let done = DispatchSemaphore(value: 0)
        for job in 0..<total {
            pool.submit {
                runs.withLock { $0[job] += 1 }
                done.signal()
            }
            // Around the timeout: some submits find a parked worker, some one just timing out.
            if job % 3 == 0 { usleep(UInt32(job % 7) * 200) }
        }
        var finished = 0
        while finished < total, done.wait(timeout: .now() + 10) == .success { finished += 1 }
        #expect(finished == total)
        #expect(runs.withLock { $0 }.allSatisfy { $0 == 1 })
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
