// One request handed to a plugin's gateway handler, until it is answered
// (gateway.h). The plugin answers from any thread, the server waits for the
// answer on its own task, and a timeout, the client going away or the plugin
// stopping may end it first: whichever comes first wins, and what comes later
// is refused (PINCER_ERR_NOT_FOUND) without touching the request again.
// The state is a value under a lock; each change says what to do next, done
// outside the lock (resume the server's waiter, feed or end a stream).

import CPincer
import PincerCore
import Synchronization

public final class PendingReply: Sendable {
    public enum Kind: Sendable { case method, route }

    /// What the server sends for the request.
    public enum Outcome: Sendable {
        case result(JSON)
        case error(code: Int, message: String)
        case response(status: Int, headers: [(String, String)], body: [UInt8])
        /// A streamed response: its head now, its body as the plugin writes it.
        case stream(status: Int, headers: [(String, String)], body: AsyncStream<[UInt8]>)
        /// The host answers for the plugin: it timed out, stopped, or is over a bound.
        case failed(EngineError)
    }

    private struct Stream {
        var continuation: AsyncStream<[UInt8]>.Continuation
        var head: Outcome
        var queuedBytes = 0
        var clientGone = false
        var headTaken: Bool
    }

    private enum State {
        /// Not answered; the server may be waiting.
        case waiting(CheckedContinuation<Outcome, Never>?)
        /// Answered before the server asked.
        case answered(Outcome)
        case streaming(Stream)
        case finished
    }

    public let id: UInt64
    public let kind: Kind
    public let pluginId: String
    private let state = Mutex(State.waiting(nil))
    /// Called once when the request stops being pending (the registry forgets it).
    private let onFinish: @Sendable (UInt64) -> Void

    init(id: UInt64, kind: Kind, pluginId: String, onFinish: @escaping @Sendable (UInt64) -> Void) {
        self.id = id
        self.kind = kind
        self.pluginId = pluginId
        self.onFinish = onFinish
    }

    // MARK: - The server's side

    /// The answer, whenever it comes (the registry arms a timeout).
    public func outcome() async -> Outcome {
        await withCheckedContinuation { continuation in
            let ready: (Outcome, finished: Bool)? = state.withLock { state in
                switch state {
                case .waiting:
                    state = .waiting(continuation)
                    return nil
                case .answered(let outcome):
                    state = .finished
                    return (outcome, true)
                case .streaming(var stream) where !stream.headTaken:
                    stream.headTaken = true
                    state = .streaming(stream)
                    return (stream.head, false)
                case .streaming, .finished:
                    return (.failed(EngineError(.internalFailure, "reply \(id) was already taken")), false)
                }
            }
            guard let (outcome, finished) = ready else { return }
            if finished { onFinish(id) }
            continuation.resume(returning: outcome)
        }
    }

    /// Bytes of the streamed body were sent: room for more.
    public func sent(_ count: Int) {
        state.withLock { state in
            guard case .streaming(var stream) = state else { return }
            stream.queuedBytes = max(0, stream.queuedBytes - count)
            state = .streaming(stream)
        }
    }

    /// The client went away: nothing more is sent; the plugin's next write learns it.
    public func clientGone() { fail(EngineError(.shuttingDown, "the client went away")) }

    // MARK: - Answers: the plugin's (gateway.h), or the host's for it

    /// A final answer.
    func answer(_ outcome: Outcome) throws(CallError) {
        let waiter = try state.withLock { (state) throws(CallError) -> CheckedContinuation<Outcome, Never>?? in
            guard case .waiting(let waiter) = state else { throw notPending(state, streamCall: false) }
            state = waiter == nil ? .answered(outcome) : .finished
            return .some(waiter)
        }
        if let waiter = waiter ?? nil {
            onFinish(id)
            waiter.resume(returning: outcome)
        }
    }

    /// Starts a streamed response: its head goes out now, its body as written.
    func start(status: Int, headers: [(String, String)]) throws(CallError) {
        let (body, continuation) = AsyncStream<[UInt8]>.makeStream()
        let head = Outcome.stream(status: status, headers: headers, body: body)
        let waiter = try state.withLock { (state) throws(CallError) -> CheckedContinuation<Outcome, Never>? in
            guard case .waiting(let waiter) = state else { throw notPending(state, streamCall: false) }
            state = .streaming(Stream(continuation: continuation, head: head, headTaken: waiter != nil))
            return waiter
        }
        waiter?.resume(returning: head)
    }

    func write(_ bytes: [UInt8]) throws(CallError) {
        let continuation = try state.withLock { (state) throws(CallError) -> AsyncStream<[UInt8]>.Continuation in
            guard case .streaming(var stream) = state else { throw notPending(state, streamCall: true) }
            if stream.clientGone { throw CallError(ResultCode.shutDown, "the client of reply \(id) went away: call stream_end") }
            let limit = Int(PINCER_GATEWAY_STREAM_MAX_QUEUED_BYTES)
            if stream.queuedBytes > 0, stream.queuedBytes + bytes.count > limit {
                throw CallError(ResultCode.wouldBlock, "reply \(id) has \(stream.queuedBytes) bytes not yet sent (at most PINCER_GATEWAY_STREAM_MAX_QUEUED_BYTES = \(limit)): write again later")
            }
            stream.queuedBytes += bytes.count
            state = .streaming(stream)
            return stream.continuation
        }
        if !bytes.isEmpty { continuation.yield(bytes) }
    }

    func end() throws(CallError) {
        let continuation = try state.withLock { (state) throws(CallError) -> AsyncStream<[UInt8]>.Continuation in
            guard case .streaming(let stream) = state else { throw notPending(state, streamCall: true) }
            state = .finished
            return stream.continuation
        }
        continuation.finish()
        onFinish(id)
    }

    /// Ends the request on the host's side (timeout, the plugin stopping, the client gone):
    /// a pending one is answered with `error`; a started stream is cut, and the plugin's
    /// next write answers PINCER_ERR_SHUT_DOWN until it ends it.
    /// `unansweredOnly`: a timeout, which ends only a request the plugin has not answered or started.
    func fail(_ error: EngineError, unansweredOnly: Bool = false) {
        enum Step { case resume(CheckedContinuation<Outcome, Never>?), cut(AsyncStream<[UInt8]>.Continuation), nothing }
        let step: Step = state.withLock { state in
            switch state {
            case .waiting(let waiter):
                state = .finished
                return .resume(waiter)
            case .answered where !unansweredOnly:
                state = .finished
                return .resume(nil)
            case .streaming(var stream) where !stream.clientGone && !unansweredOnly:
                stream.clientGone = true
                state = .streaming(stream)
                return .cut(stream.continuation)
            case .answered, .streaming, .finished:
                return .nothing
            }
        }
        switch step {
        case .resume(let waiter):
            onFinish(id)
            waiter?.resume(returning: .failed(error))
        case .cut(let continuation): continuation.finish()
        case .nothing: break
        }
    }

    private func notPending(_ state: State, streamCall: Bool) -> CallError {
        switch state {
        case .streaming where !streamCall:
            return CallError(ResultCode.invalidArgument, "reply \(id) is a started stream: write to it or end it (stream_write, stream_end)")
        case .waiting where streamCall:
            return CallError(ResultCode.invalidArgument, "reply \(id) has no started stream: call stream_start first")
        default:
            return CallError(ResultCode.notFound, "reply \(id) is not pending: it was answered, timed out, or its client went away")
        }
    }
}
