// A plugin's observer lane (hooks.h [observer-lane]): a queue served by a
// thread of its own, so the plugin's observer calls come in order and never
// overlap, and a plugin stuck in an observer holds up only this lane — never
// its own gates (GateLane) nor anyone's run. Events are queued within a count
// and a byte budget and never waited for. The boundary runs a second one per
// plugin for the runs it follows (runs.h [events-lane]).

import Foundation

// @unchecked: its queue and flags are guarded by `condition`; its thread is its own.
public final class ObserverLane: @unchecked Sendable {
    private let condition = NSCondition()
    private var observers: [(bytes: Int, body: () -> Void)] = []
    private var observersHead = 0
    private var queuedBytes = 0
    private var closed = false
    /// Events dropped because the queue was full or the lane closed.
    private var dropped = 0

    public init(name: String) {
        HostThreads.start(name) { [self] in serve() }
    }

    /// Queues `body`, which holds about `bytes` of payload. Returns 0, or when the queue is full
    /// or the lane closed (the event is dropped) how many events this lane has dropped so far.
    public func post(bytes: Int, _ body: @escaping () -> Void) -> Int {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, observers.count - observersHead < HookLimits.maxQueuedEvents,
              queuedBytes + bytes <= HookLimits.maxQueuedBytes
        else {
            dropped += 1
            return dropped
        }
        observers.append((bytes, body))
        queuedBytes += bytes
        condition.signal()
        return 0
    }

    /// Accepts no more events and drops what is queued. A call already in the plugin
    /// finishes on its own; the thread then ends.
    public func close() {
        condition.lock()
        closed = true
        observers.removeAll()
        observersHead = 0
        queuedBytes = 0
        condition.broadcast()
        condition.unlock()
    }

    private func serve() {
        condition.lock()
        while true {
            if observersHead < observers.count {
                let next = observers[observersHead]
                observersHead += 1
                queuedBytes -= next.bytes
                if observersHead == observers.count {
                    observers.removeAll(keepingCapacity: true)
                    observersHead = 0
                }
                condition.unlock()
                next.body()
                condition.lock()
            } else if closed {
                condition.unlock()
                return
            } else {
                condition.wait()
            }
        }
    }
}
