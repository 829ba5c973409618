// JSON-RPC 2.0 as the gateway speaks it, over HTTP POST and over WebSocket alike:
// parsing a request (or a batch, over HTTP), and rendering results and errors.
//
// Error codes: the protocol's own for protocol faults (-32700 parse error,
// -32600 invalid request, -32601 method not found); every error the host
// reports is -32000 minus its result.h code (-32004 not found, -32005 denied,
// -32006 limit, …) with data {"result": "PINCER_ERR_…"}, so a client can
// branch on the same codes a plugin does.

import PincerCore
import PincerHost

public enum JSONRPC {
    public struct Request: Sendable {
        /// nil for a notification (no answer is sent).
        public var id: JSON?
        public var method: String
        public var params: JSON?
    }

    public struct Failure: Error, Sendable, Equatable {
        public var code: Int
        public var message: String
        public var data: JSON?

        public init(code: Int, message: String, data: JSON? = nil) {
            self.code = code
            self.message = message
            self.data = data
        }

        public static func parse(_ message: String) -> Failure { Failure(code: -32700, message: message) }
        public static func invalidRequest(_ message: String) -> Failure { Failure(code: -32600, message: message) }
        public static func methodNotFound(_ method: String) -> Failure {
            Failure(code: -32601, message: "no method '\(method)' (the method 'rpc.methods' lists them)")
        }

        /// An error the host reports: -32000 minus its result.h code.
        public init(_ error: EngineError) {
            self.init(code: -32000 - Int(error.kind.resultCode), message: error.message,
                      data: ["result": .string(error.kind.resultName)])
        }

        var json: JSON {
            var members: [(String, JSON)] = [("code", JSON(code)), ("message", .string(message))]
            if let data { members.append(("data", data)) }
            return .object(members)
        }
    }

    /// One message's requests: a single request, or a batch (an array). A request that is
    /// itself malformed becomes a Failure in its place, answered with id null when it had none.
    public enum Message {
        case single(Result<Request, Failure>, id: JSON?)
        case batch([(Result<Request, Failure>, id: JSON?)])
        /// A response from the peer (over WebSocket: the answer to a server's heartbeat).
        case response(id: JSON?)
    }

    public static func parse(_ text: String) -> Result<Message, Failure> {
        let root: JSON
        do { root = try JSON.parse(text) } catch { return .failure(.parse("the request is not valid JSON: \(error)")) }
        if let items = root.arrayValue {
            guard !items.isEmpty else { return .failure(.invalidRequest("an empty batch")) }
            return .success(.batch(items.map { (request($0), $0["id"]) }))
        }
        if root["method"] == nil, root["result"] != nil || root["error"] != nil { return .success(.response(id: root["id"])) }
        return .success(.single(request(root), id: root["id"]))
    }

    static func request(_ value: JSON) -> Result<Request, Failure> {
        guard value.objectValue != nil else { return .failure(.invalidRequest("a request must be a JSON object, not a \(value.typeName)")) }
        guard value["jsonrpc"]?.stringValue == "2.0" else { return .failure(.invalidRequest("\"jsonrpc\" must be \"2.0\"")) }
        guard let method = value["method"]?.stringValue, !method.isEmpty else {
            return .failure(.invalidRequest("\"method\" must be a non-empty string"))
        }
        let id = value["id"]
        switch id {
        case nil, .string?, .number?, .null?: break
        default: return .failure(.invalidRequest("\"id\" must be a string, a number or null"))
        }
        let params = value["params"]
        switch params {
        case nil, .object?, .array?: break
        default: return .failure(.invalidRequest("\"params\" must be an object or an array"))
        }
        return .success(Request(id: id, method: method, params: params))
    }

    public static func result(id: JSON?, _ result: JSON) -> JSON {
        .object([("jsonrpc", "2.0"), ("id", id ?? .null), ("result", result)])
    }

    public static func error(id: JSON?, _ failure: Failure) -> JSON {
        .object([("jsonrpc", "2.0"), ("id", id ?? .null), ("error", failure.json)])
    }

    /// A message from the server that wants no answer (a subscription's events).
    public static func notification(_ method: String, _ params: JSON) -> JSON {
        .object([("jsonrpc", "2.0"), ("method", .string(method)), ("params", params)])
    }
}
