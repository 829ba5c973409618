// One streamed HTTP response, handed from AsyncHTTPClient's event loop to the
// run's worker thread: the response head, then body bytes as they arrive, then
// the end (or the transport's error). The worker blocks in next(until:) and is
// woken by what arrives, by stop() (the run was asked to stop), or by its own
// deadline: it never polls.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PincerCore

// @unchecked: `events`, `stopped` and `ended` are read and written only under `condition`'s lock.
final class StreamedResponse: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void

    enum Event {
        /// retryAfter: the Retry-After header, when the server sent one.
        case head(status: Int, contentType: String, retryAfter: String?)
        case bytes([UInt8])
        case end
        /// The transport failed (connection refused, reset, cancelled, …).
        case failure(any Error)
    }

    private let condition = NSCondition()
    private var events: [Event] = []
    private var stopped = false
    private var ended = false

    /// The next event; nil when `deadlineNs` (MonotonicClock, as run deadlines are) passed first, or stop() was called.
    func next(until deadlineNs: UInt64) -> Event? {
        condition.lock()
        defer { condition.unlock() }
        while events.isEmpty, !stopped {
            let now = MonotonicClock.nanoseconds()
            guard now < deadlineNs else { return nil }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadlineNs - now) / 1e9))
        }
        return events.isEmpty ? nil : events.removeFirst()
    }

    /// Wakes the waiter for good: next() answers nil from now on, unless an event is queued.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    /// Whether the response ended (or failed): nothing more will arrive.
    var hasEnded: Bool {
        condition.lock()
        defer { condition.unlock() }
        return ended
    }

    private func push(_ event: Event, last: Bool = false) {
        condition.lock()
        if !ended { events.append(event) }
        if last { ended = true }
        condition.signal()
        condition.unlock()
    }

    // MARK: HTTPClientResponseDelegate (on the request's event loop)

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        push(.head(status: Int(head.status.code), contentType: head.headers.first(name: "Content-Type") ?? "",
                   retryAfter: head.headers.first(name: "Retry-After")))
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        push(.bytes(Array(buffer.readableBytesView)))
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        push(.failure(error), last: true)
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        push(.end, last: true)
    }
}
