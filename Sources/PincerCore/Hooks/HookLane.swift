// One plugin's hook thread. Every hook of a plugin runs here, one at a time,
// so a plugin never sees its hooks concurrently and a plugin stuck in a hook
// holds up only itself. Gate calls go ahead of queued observer events and are
// waited for up to a deadline; observer events are queued (boundedly) and
// never waited for.

import Foundation

final class HookLane: @unchecked Sendable {
    let plugin: String
    private let condition = NSCondition()
    private var gates: [() -> Void] = []
    private var observers: [() -> Void] = []
    private var observersHead = 0
    private var busy = false
    private var closed = false
    /// Observer events dropped because the queue was full.
    private var dropped = 0

    /// Observer events a lane holds before it drops new ones.
    static let observerCapacity = 8192

    init(plugin: String) {
        self.plugin = plugin
        let thread = Thread { [self] in serve() }
        thread.name = "pincer-hooks \(plugin)"
        thread.start()
    }

    /// Runs `body` on the lane and waits for it up to `deadlineMs`; nil when it
    /// did not finish in time (it still runs; its answer is dropped) or the lane is closed.
    func call<T>(deadlineMs: UInt32, _ body: @escaping () -> T) -> T? {
        let answer = Answer<T>()
        condition.lock()
        guard !closed else {
            condition.unlock()
            return nil
        }
        gates.append { answer.give(body()) }
        condition.signal()
        condition.unlock()
        return answer.take(within: deadlineMs)
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

    /// Accepts no more work, and waits up to `seconds` for what is queued to run.
    func close(drainingFor seconds: Double) {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        condition.broadcast()
        let deadline = Date(timeIntervalSinceNow: seconds)
        while busy || !gates.isEmpty || observers.count > observersHead, condition.wait(until: deadline) {}
    }

    private func serve() {
        condition.lock()
        while true {
            let job: () -> Void
            if !gates.isEmpty {
                job = gates.removeFirst()
            } else if observersHead < observers.count {
                job = observers[observersHead]
                observersHead += 1
                if observersHead == observers.count {
                    observers.removeAll(keepingCapacity: true)
                    observersHead = 0
                }
            } else if closed {
                condition.broadcast()
                condition.unlock()
                return
            } else {
                condition.wait()
                continue
            }
            busy = true
            condition.unlock()
            job()
            condition.lock()
            busy = false
            condition.broadcast()
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
