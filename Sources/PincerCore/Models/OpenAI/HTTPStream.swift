// One streamed HTTP POST (URLSession, so https works through the system's
// libcurl), read synchronously by the run's worker thread: the response
// head, then body bytes as they arrive, then the end. The reader waits in
// short slices, so it can stop the request when the run is cancelled, and
// gives up when nothing arrives for the idle timeout.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// @unchecked: URLSession calls its delegate on one serial queue; the reader waits on `condition`.
final class HTTPStream: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    enum Event {
        /// retryAfter: the Retry-After header, when the server sent one.
        case head(status: Int, contentType: String, retryAfter: String?)
        case bytes(Data)
        case end
    }

    private let condition = NSCondition()
    private var events: [Event] = []
    private var failure: Error?
    private var session: URLSession!
    private var task: URLSessionDataTask!

    init(request: URLRequest) {
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        // The reader enforces its own idle timeout; these only bound what it does not see.
        configuration.timeoutIntervalForRequest = 3600
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
        task = session.dataTask(with: request)
        task.resume()
    }

    /// The next event, waiting up to `seconds`; nil when none came in that time.
    /// Throws the transport's error (connection refused, reset, …).
    func next(within seconds: Double) throws -> Event? {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while events.isEmpty, failure == nil, condition.wait(until: deadline) {}
        if !events.isEmpty { return events.removeFirst() }
        if let failure { throw failure }
        return nil
    }

    func cancel() {
        task.cancel()
        session.invalidateAndCancel()
    }

    private func push(_ event: Event) {
        condition.lock()
        events.append(event)
        condition.signal()
        condition.unlock()
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void)
    {
        let http = response as? HTTPURLResponse
        push(.head(status: http?.statusCode ?? 0, contentType: http?.value(forHTTPHeaderField: "Content-Type") ?? "",
                   retryAfter: http?.value(forHTTPHeaderField: "Retry-After")))
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        push(.bytes(data))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        condition.lock()
        if let error { failure = error } else { events.append(.end) }
        condition.signal()
        condition.unlock()
        session.finishTasksAndInvalidate()
    }
}
