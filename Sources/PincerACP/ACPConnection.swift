// JSON-RPC 2.0 over an agent's stdio, newline-delimited (ACP's transport):
// one compact JSON object per line each way. Both sides send requests: a
// message with "method" is the agent's request (with "id") or notification
// (without); one with "id" and no "method" answers ours — never matched on id
// alone. A reader thread takes stdout line by line and a second one takes
// stderr for the log; the agent's requests are served on parked threads, so a
// slow answer (a permission waiting on a hook) never stops the reader.
// A line that is not JSON, or the agent exiting, fails every request still
// waiting, with a message that says which.

import Foundation
import PincerCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An error in ACP's terms: its JSON-RPC code and message (both directions).
public struct ACPError: Error, CustomStringConvertible, Sendable {
    public let code: Int
    public let message: String

    public init(_ code: Int, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) (\(code))" }

    public static let cancelled = -32800
    public static let resourceNotFound = -32002
    public static let internalError = -32603
    public static let invalidParams = -32602
    public static let methodNotFound = -32601
}

/// What the connection asks of its owner: serving the agent's requests and hearing its notifications.
public protocol ACPPeer: AnyObject, Sendable {
    /// The agent's request; the answer's result, or an ACPError for its error. Runs on a parked thread.
    func serve(method: String, params: JSON) throws(ACPError) -> JSON
    /// The agent's notification (session/update), on the reader thread: keep it short.
    func notified(method: String, params: JSON)
    /// A line the agent wrote on stderr, or a fault of the connection, for the host's log.
    func log(_ line: String)
    /// The connection ended (the agent exited, or wrote what is not JSON-RPC).
    func ended(_ reason: String)
}

public final class ACPConnection: @unchecked Sendable {  // `pending`, `nextId` and `failure` are guarded by `condition`
    public static let maxLineBytes = 50 << 20

    public let process: AgentProcess
    private weak var peer: (any ACPPeer)?
    private let condition = NSCondition()
    private var pending: [Int: Result<JSON, ACPError>?] = [:]
    private var nextId = 0
    private var failure: String?
    private let writeLock = NSLock()
    private static let servers = ParkedThreads(name: "pincer-acp-serve")

    public init(process: AgentProcess, peer: any ACPPeer) {
        self.process = process
        self.peer = peer
        Thread.detachNewThread { [self] in readMessages() }
        Thread.detachNewThread { [self] in readLog() }
    }

    /// Why the connection ended, or nil while it is open.
    public var endedReason: String? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    /// Sends a request and waits for its answer, up to `timeoutMs`. When `stop` says so, `stopped`
    /// runs once (ACP: send session/cancel) and the answer is still awaited up to `stopGraceMs`
    /// (the agent's own "cancelled"); then the request is given up with -32800.
    public func request(_ method: String, _ params: JSON, timeoutMs: Int, stop: () -> Bool = { false },
                        stopped: () -> Void = {}, stopGraceMs: Int = 0) throws(ACPError) -> JSON {
        condition.lock()
        if let failure {
            condition.unlock()
            throw ACPError(ACPError.internalError, failure)
        }
        let id = nextId
        nextId += 1
        pending[id] = .some(nil)
        condition.unlock()
        try send(.object([("jsonrpc", "2.0"), ("id", JSON(id)), ("method", .string(method)), ("params", params)]))
        var deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        var stopping = false
        condition.lock()
        defer { condition.unlock() }
        while true {
            if case .some(.some(let answer)) = pending[id] {
                pending[id] = nil
                // Whatever the agent answered once asked to stop (its "cancelled", or an error from a
                // request of its own the stop cut short), the request ends as cancelled.
                if stopping { throw ACPError(ACPError.cancelled, "\(method) was cancelled: the run is stopping") }
                return try answer.get()
            }
            if let failure {
                pending[id] = nil
                throw ACPError(ACPError.internalError, failure)
            }
            if !stopping, stop() {
                stopping = true
                condition.unlock()
                stopped()
                condition.lock()
                deadline = min(deadline, Date().addingTimeInterval(Double(stopGraceMs) / 1000))
                continue
            }
            if Date() >= deadline {
                pending[id] = nil
                throw ACPError(ACPError.cancelled, stopping ? "\(method) was given up: the run is stopping" : "\(method) got no answer in \(timeoutMs) ms")
            }
            _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
        }
    }

    /// Wakes every waiting request so it checks its `stop` again.
    public func wake() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    public func notify(_ method: String, _ params: JSON) throws(ACPError) {
        try send(.object([("jsonrpc", "2.0"), ("method", .string(method)), ("params", params)]))
    }

    private func send(_ message: JSON) throws(ACPError) {
        var line = Array(message.description.utf8)
        line.append(0x0A)
        writeLock.lock()
        defer { writeLock.unlock() }
        var offset = 0
        while offset < line.count {
            let written = line[offset...].withUnsafeBytes { Glibc.write(process.stdin, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw ACPError(ACPError.internalError, "the agent's stdin is closed (it exited?)") }
            offset += written
        }
    }

    // MARK: - Reading

    private func readMessages() {
        var reader = LineReader(fd: process.stdout, maxLineBytes: Self.maxLineBytes)
        while true {
            switch reader.next() {
            case .line(let bytes):
                guard let text = String(validating: bytes, as: UTF8.self), let message = try? JSON.parse(text), message.objectValue != nil else {
                    let shown = String(decoding: bytes.prefix(120), as: UTF8.self)
                    end("the agent wrote a line that is not a JSON-RPC message: \(shown)")
                    return
                }
                dispatch(message)
            case .tooLong:
                end("the agent wrote a line over \(Self.maxLineBytes) bytes")
                return
            case .end:
                let status = process.reap(waiting: true).map { "exited with status \($0)" } ?? "closed its output"
                end("the agent \(status)")
                return
            }
        }
    }

    private func readLog() {
        var reader = LineReader(fd: process.stderr, maxLineBytes: 64 << 10)
        while true {
            switch reader.next() {
            case .line(let bytes): peer?.log(String(decoding: bytes, as: UTF8.self))
            case .tooLong: peer?.log("(a stderr line over 64 KiB, cut)")
            case .end: return
            }
        }
    }

    private func dispatch(_ message: JSON) {
        let id = message["id"]
        guard let method = message["method"]?.stringValue else {
            // An answer to one of ours.
            guard let number = id?.wholeNumber else { return }
            let answer: Result<JSON, ACPError>
            if let error = message["error"] {
                answer = .failure(ACPError(error["code"]?.wholeNumber ?? ACPError.internalError, error["message"]?.stringValue ?? "\(error)"))
            } else {
                answer = .success(message["result"] ?? .null)
            }
            condition.lock()
            if pending[number] != nil { pending[number] = .some(answer) }
            condition.broadcast()
            condition.unlock()
            return
        }
        let params = message["params"] ?? .null
        guard let id else {
            peer?.notified(method: method, params: params)
            return
        }
        Self.servers.submit { [self] in
            let reply: JSON
            do throws(ACPError) {
                guard let peer else { throw ACPError(ACPError.internalError, "the host is closing this agent") }
                reply = .object([("jsonrpc", "2.0"), ("id", id), ("result", try peer.serve(method: method, params: params))])
            } catch {
                reply = .object([("jsonrpc", "2.0"), ("id", id), ("error", .object([("code", JSON(error.code)), ("message", .string(error.message))]))])
            }
            try? send(reply)
        }
    }

    private func end(_ reason: String) {
        condition.lock()
        let first = failure == nil
        if first { failure = reason }
        condition.broadcast()
        condition.unlock()
        if first { peer?.ended(reason) }
    }
}

/// Lines from a file descriptor, each without its newline; a line past the bound is refused.
struct LineReader {
    enum Item { case line([UInt8]), tooLong, end }

    let fd: Int32
    let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0

    init(fd: Int32, maxLineBytes: Int) {
        self.fd = fd
        self.maxLineBytes = maxLineBytes
    }

    mutating func next() -> Item {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                if start > 1 << 16 {
                    buffer.removeFirst(start)
                    start = 0
                }
                return .line(line)
            }
            if buffer.count - start > maxLineBytes { return .tooLong }
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return .end }
            buffer += chunk[0..<count]
        }
    }
}
