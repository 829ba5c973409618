// Blocking engine work (waits, store commits, plugin calls) never runs on an
// event-loop thread or Swift's cooperative pool: a gateway request hands it to
// a parked thread and awaits the answer. The threads are bounded by the
// requests that may be in flight (gateway.limits: connections × in flight per
// client), and end when idle.

import PincerCore

public final class BlockingWork: Sendable {
    private let threads = ParkedThreads(name: "pincer-gateway")

    public init() {}

    /// Runs `job` on a parked thread, without waiting for it.
    public func submit(_ job: @escaping @Sendable () -> Void) { threads.submit(job) }

    public func run<T: Sendable>(_ body: @escaping @Sendable () throws(JSONRPC.Failure) -> T) async throws(JSONRPC.Failure) -> T {
        let result: Result<T, JSONRPC.Failure> = await withCheckedContinuation { continuation in
            threads.submit { continuation.resume(returning: Result { () throws(JSONRPC.Failure) in try body() }) }
        }
        return try result.get()
    }
}
