// The operator's side of the gateway, as `pincer call` uses it: one WebSocket
// connection to /rpc, one request, its answer — and, for runs.subscribe, every
// notification until run.end. It answers the server's heartbeats, as every
// client of the gateway must (ClientRegistry).

import Hummingbird
import HummingbirdWSClient
import Logging
import NIOCore
import PincerCore
import Synchronization

public enum OperatorClient {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Calls `method` on the gateway at `url` (ws://host:port/rpc); `notification` sees each
    /// notification that arrives before the answer (and, for a subscription, after it until
    /// run.end). Returns the response object: {"result": …} or {"error": …}.
    public static func call(url: String, token: String?, method: String, params: JSON?,
                            notification: @escaping @Sendable (JSON) -> Void) async throws -> JSON {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        let answer = Mutex<JSON?>(nil)
        var request: [(String, JSON)] = [("jsonrpc", "2.0"), ("id", "call-1"), ("method", .string(method))]
        if let params { request.append(("params", params)) }
        let requestText = JSON.object(request).description
        let following = method == "runs.subscribe"
        do {
            try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 64 << 20, additionalHeaders: headers),
                                              logger: Logger(label: "pincer-call")) { inbound, outbound, _ in
                try await outbound.write(.text(requestText))
                for try await message in inbound.messages(maxSize: 64 << 20) {
                    guard case .text(let text) = message, let json = try? JSON.parse(text) else { continue }
                    if json["method"]?.stringValue == "heartbeat", let id = json["id"] {
                        try await outbound.write(.text(JSONRPC.result(id: id, .object([])).description))
                    } else if json["id"] == "call-1" {
                        answer.withLock { $0 = json }
                        if !following || json["error"] != nil { return }
                    } else if json["method"] != nil {
                        notification(json)
                        if json["method"] == "run.end" { return }
                    }
                }
            }
        } catch {
            throw Failure(description: "\(url): \(error)")
        }
        guard let response = answer.withLock({ $0 }) else {
            throw Failure(description: "\(url): the connection closed before an answer (a wrong token, or a server going down?)")
        }
        return response
    }
}
