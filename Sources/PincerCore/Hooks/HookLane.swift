// One plugin's hook thread. Every hook of a plugin runs here, one at a time,
// so a plugin never sees its hooks concurrently and a plugin stuck in a hook
// holds up only itself. Gate calls go ahead of queued observer events and are
// waited for up to a deadline; observer events are queued (boundedly) and
// never waited for.

import Foundation

final class HookLane: @unchecked Sendable {
    let plugin: String
    private let condition = NSCondition()
    /// Each gate job runs with `true`, or is cancelled with `false` when the lane closes.
    private var gates: [(Bool) -> Void] = []
    private var observers: [() -> Void] = []
    private var observersHead = 0
    private var closed = false
    /// Observer events dropped because the queue was full.
    private var dropped = 0

    /// Observer events a lane holds before it drops new ones.
    static let observerCapacity = 8192

    /// The lane's own thread, once it runs: a gate asked from there (a hook that spawns,
    /// say) runs at once instead of waiting behind the hook that asked for it.
    private var laneThread: pthread_t?

    init(plugin: String) {
        self.plugin = plugin
        let thread = Thread { [self] in serve() }
        thread.name = "pincer-hooks \(plugin)"
        thread.start()
    }

    enum CallOutcome<T> {
        case answered(T)
        /// It did not finish within the deadline: it still runs, and its answer is dropped.
        case late
        /// The lane closed (its plugin shut down) before the call ran.
        case closed
    }

    /// Runs `body` on the lane, ahead of queued observer events, and waits for it up to `deadlineMs`.
    func call<T>(deadlineMs: UInt32, _ body: @escaping () -> T) -> CallOutcome<T> {
        let answer = Answer<CallOutcome<T>>()
        condition.lock()
        guard !closed else {
            condition.unlock()
            return .closed
        }
        if let laneThread, pthread_equal(laneThread, pthread_self()) != 0 {
            condition.unlock()
            return .answered(body())
        }
        gates.append { run in answer.give(run ? .answered(body()) : .closed) }
        condition.signal()
        condition.unlock()
        return answer.take(within: deadlineMs) ?? .late
    }

    /// Queues `body`. Returns 0, or when the queue is full or the lane closed (the
    /// event is dropped) how many events this lane has dropped so far.
    func post(_ body: @escaping () -> Void) -> Int {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, observers.count - observersHead < HookLane.observerCapacity else {
            dropped += 1
            return dropped
        }
        observers.append(body)
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
        condition.broadcast()
        condition.unlock()
        for gate in cancelled { gate(false) }
    }

    private func serve() {
        condition.lock()
        laneThread = pthread_self()
        while true {
            let job: () -> Void
            if !gates.isEmpty {
                let gate = gates.removeFirst()
                job = { gate(true) }
            } else if observersHead < observers.count {
                job = observers[observersHead]
                observersHead += 1
                if observersHead == observers.count {
                    observers.removeAll(keepingCapacity: true)
                    observersHead = 0
                }
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

/// A value handed from the lane to a waiting caller, or dropped when the caller gave up.
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
