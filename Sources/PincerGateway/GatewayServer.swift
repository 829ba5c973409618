// The gateway's HTTP surface, on Hummingbird 2:
//   GET  /healthz   liveness only ("ok"), served without the token
//   GET  /metrics   the engine's swift-metrics in Prometheus's text format (swift-prometheus)
//   POST /rpc       JSON-RPC 2.0 (a request or a batch) → OperatorMethods
//   GET  /rpc       upgraded to a WebSocket: JSON-RPC both ways, heartbeats, run streams
// When a token is set, every path but /healthz needs `Authorization: Bearer <token>`;
// a request without it is refused (401) before any method or plugin code runs.

import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import PincerCore
import PincerHost
import Prometheus
import Synchronization

/// The settings a running server reads at each request, so SIGHUP can change them.
public final class LiveSettings: Sendable {
    private let value: Mutex<(settings: GatewaySettings, token: String?)>

    public init(_ settings: GatewaySettings, token: String?) { value = Mutex((settings, token)) }

    public var current: (settings: GatewaySettings, token: String?) { value.withLock { $0 } }

    public func replace(_ settings: GatewaySettings, token: String?) { value.withLock { $0 = (settings, token) } }
}

/// Each request's context: the router's, the WebSocket upgrade's, and the client's channel.
public struct GatewayContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }

    var clientAddress: String { channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown" }
}

public enum GatewayServer {
    public typealias App = Application<RouterResponder<GatewayContext>>

    /// The application serving `methods`, bound as `live` says when it starts.
    public static func application(methods: OperatorMethods, live: LiveSettings, metrics: PrometheusCollectorRegistry, logger: Logger,
                                   onRunning: @escaping @Sendable (SocketAddress?) -> Void) -> App {
        let settings = live.current.settings
        let router = Router(context: GatewayContext.self)
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { request, _ in
            if let refusal = refusal(request, live: live) { return refusal }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
        router.post("/rpc") { request, context in
            if let refusal = refusal(request, live: live) { return refusal }
            let limit = live.current.settings.maxRequestBytes
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: limit) } catch is NIOTooManyBytesError {
                return json(.contentTooLarge, JSONRPC.error(id: nil, JSONRPC.Failure(EngineError(.limit, "the request body is over \(limit) bytes (gateway.limits.maxRequestBytes)"))))
            }
            let client = GatewayClient(id: nil, address: context.clientAddress, gone: { !context.channel.isActive })
            switch JSONRPC.parse(String(buffer: body)) {
            case .failure(let failure): return json(.ok, JSONRPC.error(id: nil, failure))
            case .success(.single(let parsed, let id)):
                switch parsed {
                case .failure(let failure): return json(.ok, JSONRPC.error(id: id, failure))
                case .success(let request):
                    guard let answer = await methods.respond(request, from: client) else { return Response(status: .noContent) }
                    return json(.ok, answer)
                }
            case .success(.batch(let items)):
                var answers: [JSON] = []
                for (parsed, id) in items {
                    switch parsed {
                    case .failure(let failure): answers.append(JSONRPC.error(id: id, failure))
                    case .success(let request): if let answer = await methods.respond(request, from: client) { answers.append(answer) }
                    }
                }
                return answers.isEmpty ? Response(status: .noContent) : json(.ok, .array(answers))
            case .success(.response):
                return json(.ok, JSONRPC.error(id: nil, .invalidRequest("a response, not a request: the HTTP endpoint takes requests")))
            }
        }

        // Plugins' routes, under /plugins/<plugin-id>/, and the operator's aliases to them.
        let pluginRoutes = PluginRoutes(gateway: methods.host.gateway, live: live, aliases: settings.aliases)
        for path in ["/plugins/**"] + settings.aliases.keys.sorted() {
            for method in PluginRoutes.methods {
                router.on(RouterPath(path), method: method) { request, context in await pluginRoutes.serve(request, context) }
            }
        }

        let webSocketRouter = Router(context: GatewayContext.self)
        webSocketRouter.ws("/rpc") { request, _ in
            if let refusal = refusal(request, live: live) { throw HTTPError(refusal.status, message: "this gateway needs the operator's token: Authorization: Bearer <token>") }
            let limit = live.current.settings.maxWebSocketClients
            if methods.clients.count >= limit {
                throw HTTPError(.serviceUnavailable, message: "\(limit) WebSocket clients are connected (gateway.limits.maxWebSocketClients)")
            }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let settings = live.current.settings
            let address = context.requestContext.clientAddress
            guard let id = methods.clients.open(address: address, limit: settings.maxWebSocketClients) else {
                try await outbound.close(.unknown(1013), reason: "\(settings.maxWebSocketClients) WebSocket clients are connected (gateway.limits.maxWebSocketClients)")
                return
            }
            defer { methods.clients.close(id) }
            let session = WebSocketClientSession(methods: methods, settings: settings, id: id, address: address,
                                                 channel: context.requestContext.channel, logger: logger)
            await session.serve(inbound: inbound, outbound: outbound)
        }

        let (host, port) = (settings.listenHost, settings.listenPort)
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: webSocketRouter,
                                           configuration: .init(ws: .init(maxFrameSize: settings.maxFrameBytes, autoPing: .disabled,
                                                                         closeTimeout: .seconds(2)))),
            configuration: .init(address: .hostname(host, port: port), serverName: "pincer",
                                 availableConnectionsDelegate: MaximumAvailableConnections(settings.maxConnections)),
            onServerRunning: { channel in onRunning(channel.localAddress) },
            logger: logger)
    }

    /// Whether the request carries the operator's token (true when none is set).
    static func isOperator(_ request: Request, live: LiveSettings) -> Bool {
        guard let token = live.current.token else { return true }
        return constantTimeEquals(request.headers[.authorization] ?? "", "Bearer " + token)
    }

    /// The 401 a request without the operator's token gets, or nil when it may go on.
    static func refusal(_ request: Request, live: LiveSettings) -> Response? {
        if isOperator(request, live: live) { return nil }
        let presented = request.headers[.authorization] ?? ""
        var response = json(.unauthorized, JSONRPC.error(id: nil, JSONRPC.Failure(EngineError(.denied, presented.isEmpty
            ? "this gateway needs the operator's token: Authorization: Bearer <token>"
            : "the bearer token does not match the gateway's (gateway.token or gateway.tokenEnv)"))))
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return difference == 0
    }

    /// A host error as an HTTP response: the status its kind calls for, the JSON-RPC error as the body.
    static func failure(_ error: EngineError) -> Response {
        let status: HTTPResponse.Status = switch error.kind {
        case .timeout: .gatewayTimeout
        case .shuttingDown, .limit: .serviceUnavailable
        case .notFound: .notFound
        case .denied: .forbidden
        case .invalidArgument: .badRequest
        case .unsupported: .methodNotAllowed
        case .internalFailure: .internalServerError
        }
        return json(status, JSONRPC.error(id: nil, JSONRPC.Failure(error)))
    }

    static func json(_ status: HTTPResponse.Status, _ body: JSON) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: body.description)))
    }
}
