// Clients of the gateway as outside programs are: a WebSocket JSON-RPC client
// (swift-websocket's, not the server's code) that can answer heartbeats or stay
// silent, and plain HTTP POSTs.

import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdWSClient
import Logging
import NIOCore
import PincerCore
import Synchronization

/// One WebSocket connection; every message it receives is kept in order.
final class WebSocketRPC: Sendable {
    /// What the connection's task and the test share.
    private final class State: Sendable {
        let received = Mutex<[JSON]>([])
        let writer = Mutex<WebSocketOutboundWriter?>(nil)
        let closed = Atomic<Bool>(false)
    }

    private let state = State()
    private let nextId = Atomic<Int>(0)
    private let task: Task<Void, Never>

    /// Connects; `answerHeartbeats` false plays a client that ignores the server's heartbeat requests.
    init(url: String, token: String? = nil, answerHeartbeats: Bool = true, maxFrameSize: Int = 1 << 22) async throws {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        let state = self.state
        let ready = AsyncStream<Bool>.makeStream()
        task = Task {
            do {
                try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: maxFrameSize, additionalHeaders: headers),
                                                  logger: Logger(label: "test-client")) { inbound, outbound, _ in
                    state.writer.withLock { $0 = outbound }
                    ready.continuation.yield(true)
                    for try await message in inbound.messages(maxSize: maxFrameSize) {
                        guard case .text(let text) = message, let json = try? JSON.parse(text) else { continue }
                        if json["method"]?.stringValue == "heartbeat", let id = json["id"] {
                            if answerHeartbeats { try await outbound.write(.text(#"{"jsonrpc":"2.0","id":\#(id),"result":{}}"#)) }
                        }
                        state.received.withLock { $0.append(json) }
                    }
                }
            } catch {}
            state.closed.store(true, ordering: .relaxed)
            ready.continuation.yield(false)
        }
        var iterator = ready.stream.makeAsyncIterator()
        guard await iterator.next() == true else { throw RPCError(description: "could not connect to \(url)") }
    }

    struct RPCError: Error, CustomStringConvertible { let description: String }

    var isClosed: Bool { state.closed.load(ordering: .relaxed) }
    var messages: [JSON] { state.received.withLock { $0 } }

    func sendText(_ text: String) async throws {
        guard let outbound = state.writer.withLock({ $0 }) else { throw RPCError(description: "not connected") }
        try await outbound.write(.text(text))
    }

    /// Sends a request and returns its id.
    @discardableResult
    func send(_ method: String, _ params: JSON? = nil) async throws -> String {
        let id = "r\(nextId.add(1, ordering: .relaxed).newValue)"
        var members: [(String, JSON)] = [("jsonrpc", "2.0"), ("id", .string(id)), ("method", .string(method))]
        if let params { members.append(("params", params)) }
        try await sendText(JSON.object(members).description)
        return id
    }

    /// Waits (up to `seconds`) for a message matching `predicate`.
    func waitFor(seconds: Double = 20, _ predicate: @escaping (JSON) -> Bool) async throws -> JSON {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let match = messages.first(where: predicate) { return match }
            if isClosed { throw RPCError(description: "the connection closed; received: \(messages)") }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw RPCError(description: "nothing matched in \(seconds) s; received: \(messages)")
    }

    /// The response to request `id`.
    func response(_ id: String, seconds: Double = 20) async throws -> JSON {
        try await waitFor(seconds: seconds) { $0["id"]?.stringValue == id && $0["method"] == nil }
    }

    /// Calls `method` and returns its result, or throws its error.
    func call(_ method: String, _ params: JSON? = nil) async throws -> JSON {
        let response = try await response(try await send(method, params))
        if let error = response["error"] { throw RPCError(description: "\(method): \(error)") }
        return response["result"] ?? .null
    }

    func waitUntilClosed(seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !isClosed, Date() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        return isClosed
    }

    func close() async {
        if let outbound = state.writer.withLock({ $0 }) { try? await outbound.close(.normalClosure, reason: nil) }
        _ = await waitUntilClosed(seconds: 5)
        task.cancel()
    }
}

/// A POST to the gateway's /rpc: the status code and the body (parsed as JSON when it is).
func post(_ base: String, _ body: String, token: String? = nil) async throws -> (status: Int, body: JSON?) {
    var request = HTTPClientRequest(url: base + "/rpc")
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json")
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 64 << 20)
    return (Int(response.status.code), try? JSON.parse(String(buffer: bytes)))
}

func get(_ url: String) async throws -> (status: Int, body: String) {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
    return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
}
