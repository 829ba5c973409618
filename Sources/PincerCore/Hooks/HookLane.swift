// One lane of a plugin's hooks: a queue served by a thread of its own, so the
// plugin's calls on it come in order and never overlap, and a plugin stuck in
// a hook holds up only its own lane. Each plugin has two — gates and
// observers — so a slow observer never makes the plugin's own gates late.
// Gate calls are waited for up to a deadline; one whose deadline passes
// before it starts is taken off the queue with its event. Observer events are
// queued within a count and a byte budget and never waited for.

import Foundation

// @unchecked: its queues and flags are guarded by `condition`; its thread is its own.
final class HookLane: @unchecked Sendable {
    let name: String
    private let condition = NSCondition()
    private var gates: [GateJob] = []
    private var observers: [(bytes: Int, body: () -> Void)] = []
    private var observersHead = 0
    private var queuedBytes = 0
    private var closed = false
    /// Observer events dropped because the queue was full or the lane closed.
    private var dropped = 0
    /// Gates running nested on the lane's own thread (touched only there).
    private var nesting = 0
    /// The lane's thread, once it runs: a gate asked from there (a hook that spawns,
    /// say) runs at once, nested, instead of waiting behind the hook that asked for it.
    private var laneThread: pthread_t?

    static let maxPendingGates = 64
    static let maxQueuedEvents = 8192
    static let maxQueuedBytes = 64 << 20
    static let maxNesting = 4

    init(name: String) {
        self.name = name
        HostThreads.start(name) { [self] in serve() }
    }

    enum CallOutcome<T> {
        case answered(T)
        /// It did not finish within the deadline: if it started, it still runs and its answer is dropped.
        case late
        /// The lane closed (its plugin is stopping) before the call ran.
        case closed
        /// The lane already holds maxPendingGates calls waiting to start.
        case full
        /// Nested gates on the lane's thread would pass maxNesting.
        case tooDeep
    }

    /// Runs `body` on the lane, ahead of nothing but earlier gates, and waits for it up to `deadlineMs`.
    func call<T>(deadlineMs: UInt32, _ body: @escaping () -> T) -> CallOutcome<T> {
        condition.lock()
        guard !closed else {
            condition.unlock()
            return .closed
        }
        if let laneThread, pthread_equal(laneThread, pthread_self()) != 0 {
            condition.unlock()
            guard nesting < HookLane.maxNesting else { return .tooDeep }
            nesting += 1
            defer { nesting -= 1 }
            return .answered(body())
        }
        guard gates.count < HookLane.maxPendingGates else {
            condition.unlock()
            return .full
        }
        let answer = Answer<CallOutcome<T>>()
        let job = GateJob { run in answer.give(run ? .answered(body()) : .closed) }
        gates.append(job)
        condition.signal()
        condition.unlock()
        if let outcome = answer.take(within: deadlineMs) { return outcome }
        // Late: a job that has not started leaves the queue now, with what it holds.
        condition.lock()
        gates.removeAll { $0 === job }
        condition.unlock()
        return .late
    }

    /// Queues `body`, which holds about `bytes` of payload. Returns 0, or when the queue is full
    /// or the lane closed (the event is dropped) how many events this lane has dropped so far.
    func post(bytes: Int, _ body: @escaping () -> Void) -> Int {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, observers.count - observersHead < HookLane.maxQueuedEvents,
              queuedBytes + bytes <= HookLane.maxQueuedBytes
        else {
            dropped += 1
            return dropped
        }
        observers.append((bytes, body))
        queuedBytes += bytes
        condition.signal()
        return 0
    }

    /// Accepts no more work and drops what is queued: gates waiting for it learn at once.
    /// A call already in the plugin finishes on its own; the thread then ends.
    func close() {
        condition.lock()
        closed = true
        let cancelled = gates
        gates.removeAll()
        observers.removeAll()
        observersHead = 0
        queuedBytes = 0
        condition.broadcast()
        condition.unlock()
        for gate in cancelled { gate.run(false) }
    }

    private func serve() {
        condition.lock()
        laneThread = pthread_self()
        while true {
            let job: () -> Void
            if !gates.isEmpty {
                let gate = gates.removeFirst()
                job = { gate.run(true) }
            } else if observersHead < observers.count {
                let next = observers[observersHead]
                observersHead += 1
                queuedBytes -= next.bytes
                if observersHead == observers.count {
                    observers.removeAll(keepingCapacity: true)
                    observersHead = 0
                }
                job = next.body
            } else if closed {
                condition.unlock()
                return
            } else {
                condition.wait()
                continue
            }
            condition.unlock()
            job()
            condition.lock()
        }
    }
}

/// A gate call waiting on a lane: run with `true`, or cancelled with `false` when the lane closes.
private final class GateJob {
    let run: (Bool) -> Void
    init(_ run: @escaping (Bool) -> Void) { self.run = run }
}

/// A value handed from the lane to a waiting caller, or dropped when the caller gave up.
/// @unchecked: set once under its own condition, read under it by the one caller waiting.
private final class Answer<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: T?
    private var given = false

    func give(_ v: T) {
        condition.lock()
        value = v
        given = true
        condition.signal()
        condition.unlock()
    }

    func take(within ms: UInt32) -> T? {
        let deadline = Date(timeIntervalSinceNow: Double(ms) / 1000)
        condition.lock()
        defer { condition.unlock() }
        while !given, condition.wait(until: deadline) {}
        return given ? value : nil
    }
}
