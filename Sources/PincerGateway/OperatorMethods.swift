// The gateway's method table: one table for HTTP POST and WebSocket alike.
// Every caller that passed the gateway's auth is the operator (Caller.operator).
// Methods that only read the engine answer on the calling task (a short lock);
// those that may block (gates, store commits, waits) run through BlockingWork.
// runs.subscribe answers once, then streams the run's events (WebSocket only).

import PincerCore
import PincerHost

/// Who sent a request: the WebSocket client's id (nil over HTTP), its address, and
/// whether it went away (a blocked wait gives up then).
public struct GatewayClient: Sendable {
    public var id: Int?
    public var address: String
    public var gone: @Sendable () -> Bool

    public init(id: Int?, address: String, gone: @escaping @Sendable () -> Bool) {
        self.id = id
        self.address = address
        self.gone = gone
    }
}

public final class OperatorMethods: Sendable {
    /// What a method answers: a result, or (runs.subscribe) a result and then a stream of
    /// notifications that `stream` sends, on a blocking thread, until the run ends or `send` fails.
    public enum Answer: Sendable {
        case result(JSON)
        case stream(JSON, @Sendable (_ send: @escaping @Sendable (JSON) -> Bool) -> Void)
    }

    /// The longest runs.wait a client may ask for, and a subscription's wait between checks.
    static let maxWaitMs = 600_000
    static let subscriptionPollMs: UInt32 = 1000

    public static let names = ["rpc.methods"] + GatewayMethods.all + ["runs.get", "runs.cancel"]

    /// Methods that only read the engine (a short lock, never a wait): a WebSocket client's
    /// reader answers them itself instead of starting a task for each.
    public static let answersAtOnce: Set = ["rpc.methods", "health", "status", "models.list", "plugins.list", "sessions.list",
                                            "sessions.get", "sessions.messages", "sessions.steer", "runs.get", "runs.cancel"]

    let host: PluginHost
    let clients: ClientRegistry
    let blocking = BlockingWork()
    var engine: Engine { host.engine }

    public init(host: PluginHost, clients: ClientRegistry) {
        self.host = host
        self.clients = clients
    }

    /// The JSON-RPC response to a request (nil for a notification), for HTTP, where nothing streams.
    public func respond(_ request: JSONRPC.Request, from client: GatewayClient) async -> JSON? {
        let answer: JSON
        do {
            switch try await call(request, from: client) {
            case .result(let result): answer = JSONRPC.result(id: request.id, result)
            case .stream: answer = JSONRPC.error(id: request.id, JSONRPC.Failure(EngineError(.unsupported, "\(request.method) streams: call it over the WebSocket at /rpc")))
            }
        } catch {
            answer = JSONRPC.error(id: request.id, error)
        }
        return request.id == nil ? Optional.none : answer  // a notification: no answer
    }

    public func call(_ request: JSONRPC.Request, from client: GatewayClient) async throws(JSONRPC.Failure) -> Answer {
        // A plugin's method takes its params as they came (by name or by position).
        if host.gateway.hasMethod(request.method) { return .result(try await pluginMethod(request.method, request.params, from: client)) }
        let p = try Params(request)
        let engine = self.engine
        switch request.method {
        case "rpc.methods": return .result(.array((Self.names + host.gateway.methods.map(\.name)).map { .string($0) }))
        case "health":
            return .result(.object([("status", "ok"), ("uptimeMs", engine.status.json["uptimeMs"] ?? .null),
                                    ("clients", clients.json)]))
        case "status": return .result(engine.status.json)
        case "models.list": return .result(try parsed(engine.modelsJSON()))
        case "plugins.list": return .result(try parsed(host.recordsJSON))
        case "sessions.list":
            return .result(.array(engine.sessionSummaries.map { s in
                .object([("key", .string(s.key)), ("owner", .string(s.owner)), ("model", .string(s.model)), ("label", JSON(s.label)),
                         ("state", .string(s.state.rawValue)), ("messages", JSON(s.messages)), ("createdAt", JSON(s.createdAtMs))])
            }))
        case "sessions.get":
            let key = try p.string("key")
            return .result(try parsed(try engineCall { () throws(EngineError) in try engine.sessionJSON(sessionKey: key, for: .operator) }))
        case "sessions.messages":
            let key = try p.string("key"), limit = try p.count("limit", default: 0, max: Int(Int32.max))
            return .result(try parsed(try engineCall { () throws(EngineError) in try engine.transcriptJSON(sessionKey: key, limit: limit, by: .operator) }))
        case "sessions.create":
            let spec = try sessionSpec(p)
            let started = try await blocking.run { () throws(JSONRPC.Failure) in
                try Self.engineCall { () throws(EngineError) in try engine.spawn(spec, by: .operator) }
            }
            return .result(.object([("sessionKey", .string(started.sessionKey)), ("runId", .string(started.runId))]))
        case "sessions.prompt":
            let key = try p.string("key"), text = try p.string("text")
            let runId = try await blocking.run { () throws(JSONRPC.Failure) in
                try Self.engineCall { () throws(EngineError) in try engine.prompt(sessionKey: key, text: text, by: .operator) }
            }
            return .result(.object([("runId", .string(runId))]))
        case "sessions.steer":
            let key = try p.string("key"), text = try p.string("text")
            let outcome = try engineCall { () throws(EngineError) in try engine.steer(sessionKey: key, text: text, by: .operator) }
            return .result(.object([("outcome", .string("\(outcome)"))]))
        case "sessions.delete":
            let key = try p.string("key")
            try await blocking.run { () throws(JSONRPC.Failure) in
                try Self.engineCall { () throws(EngineError) in try engine.deleteSession(key, by: .operator) }
            }
            return .result(.object([("deleted", .string(key))]))
        case "runs.get":
            let runId = try p.string("runId")
            guard let run = engine.run(runId) else { throw JSONRPC.Failure(EngineError(.notFound, "no run with id '\(runId)'")) }
            return .result(run.json)
        case "runs.cancel":
            let runId = try p.string("runId")
            try engineCall { () throws(EngineError) in try engine.cancelRun(runId, by: .operator) }
            return .result(.object([("cancelled", .string(runId))]))
        case "runs.wait":
            let runId = try p.string("runId"), timeoutMs = try p.count("timeoutMs", default: 30_000, max: Self.maxWaitMs)
            let run = try await blocking.run { () throws(JSONRPC.Failure) in
                try Self.engineCall { () throws(EngineError) in
                    try engine.wait(runId: runId, timeoutMs: UInt32(timeoutMs), by: .operator, abandon: client.gone)
                }
            }
            return .result(run.json)
        case "runs.subscribe":
            let runId = try p.string("runId")
            _ = try engineCall { () throws(EngineError) in try engine.events(ofRun: runId, by: .operator) }
            return .stream(.object([("subscribed", .string(runId))])) { send in Self.follow(runId, engine: engine, client: client, send: send) }
        default:
            throw JSONRPC.Failure.methodNotFound(request.method)
        }
    }

    /// A plugin's own method (gateway.h): handed to the plugin, answered through its reply handle.
    func pluginMethod(_ name: String, _ params: JSON?, from client: GatewayClient) async throws(JSONRPC.Failure) -> JSON {
        let request = GatewayRequest(kind: .method, method: name, body: Array((params ?? .null).description.utf8),
                                     principal: "operator", clientAddress: client.address)
        let reply = try engineCall { () throws(EngineError) in try host.gateway.call(method: name, request) }
        switch await withTaskCancellationHandler(operation: { await reply.outcome() }, onCancel: { reply.clientGone() }) {
        case .result(let result): return result
        case .error(let code, let message): throw JSONRPC.Failure(code: code, message: message, data: ["plugin": .string(reply.pluginId)])
        case .failed(let error): throw JSONRPC.Failure(error)
        case .response, .stream: throw JSONRPC.Failure(EngineError(.internalFailure, "plugin '\(reply.pluginId)' answered a method as an HTTP route"))
        }
    }

    /// Sends each of the run's events as a run.event notification with its sequence number
    /// (from 0), then run.end with the final status and text; stops early if a send fails
    /// (the client's queue is full: it is being closed) or the client went away.
    static func follow(_ runId: String, engine: Engine, client: GatewayClient, send: @Sendable (JSON) -> Bool) {
        var next = 0
        while !client.gone() {
            guard let (events, run) = try? engine.events(ofRun: runId, from: next, timeoutMs: subscriptionPollMs, by: .operator,
                                                         abandon: client.gone) else {
                _ = send(JSONRPC.notification("run.end", .object([("runId", .string(runId)), ("status", "unknown"),
                                                                  ("error", "the host no longer holds this run")])))
                return
            }
            for event in events {
                guard send(JSONRPC.notification("run.event", .object([("runId", .string(runId)), ("seq", JSON(next)), ("event", event.json)]))) else { return }
                next += 1
            }
            if run.status.isTerminal {
                var end = run.json
                if case .object(var members) = end { members.append(("events", JSON(next))); end = .object(members) }
                _ = send(JSONRPC.notification("run.end", end))
                return
            }
        }
    }

    func sessionSpec(_ p: Params) throws(JSONRPC.Failure) -> SessionSpec {
        let tools = p["tools"]
        if let tools, tools.objectValue == nil { throw p.fail("tools", "must be an object {\"allow\": […], \"deny\": […]}") }
        var metadata: [String: JSON] = [:]
        if let value = p["metadata"], value != .null {
            guard let members = value.objectValue else { throw p.fail("metadata", "must be an object keyed by namespace") }
            metadata = Dictionary(members, uniquingKeysWith: { $1 })
        }
        let timeout = try p.count("timeoutSeconds", default: 0, max: 7 * 24 * 3600)
        return SessionSpec(message: try p.string("message"), systemPrompt: try p.optionalString("systemPrompt"),
                           toolPolicy: ToolPolicy(allow: try p.strings("allow", in: tools), deny: try p.strings("deny", in: tools)),
                           model: try p.optionalString("model"), timeoutSeconds: timeout > 0 ? timeout : nil,
                           label: try p.optionalString("label"), metadata: metadata)
    }

    /// JSON the engine rendered, as a value to embed in a response.
    func parsed(_ text: String) throws(JSONRPC.Failure) -> JSON {
        do { return try JSON.parse(text) } catch {
            throw JSONRPC.Failure(EngineError(.internalFailure, "the host rendered JSON it cannot read back: \(error)"))
        }
    }

    func engineCall<T>(_ body: () throws(EngineError) -> T) throws(JSONRPC.Failure) -> T { try Self.engineCall(body) }

    static func engineCall<T>(_ body: () throws(EngineError) -> T) throws(JSONRPC.Failure) -> T {
        do { return try body() } catch { throw JSONRPC.Failure(error) }
    }
}
