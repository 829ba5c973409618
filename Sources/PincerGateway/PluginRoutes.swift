// HTTP requests for plugins' routes (gateway.h): /plugins/<plugin-id>/… and the
// operator's aliases (gateway.aliases). The token is checked first unless the
// route is public; the request goes to the plugin's handler, and its answer —
// a whole response or a stream — back to the client. A client that goes away
// cuts the stream (the plugin's next write learns it).

import HTTPTypes
import Hummingbird
import NIOCore
import PincerCore
import PincerHost

struct PluginRoutes: Sendable {
    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .options]

    let gateway: PluginGateway
    let live: LiveSettings
    let aliases: [String: String]

    func serve(_ request: Request, _ context: GatewayContext) async -> Response {
        let asked = request.uri.path
        let path = aliases[asked] ?? asked
        let isOperator = GatewayServer.isOperator(request, live: live)
        guard let route = gateway.route(path: path, method: request.method.rawValue) else {
            if let refusal = GatewayServer.refusal(request, live: live) { return refusal }
            return GatewayServer.failure(gateway.hasRoute(path: path)
                ? EngineError(.unsupported, "\(asked) does not take \(request.method.rawValue)")
                : EngineError(.notFound, "no plugin route at \(asked)"))
        }
        if !route.isPublic, let refusal = GatewayServer.refusal(request, live: live) { return refusal }
        let limit = live.current.settings.maxRequestBytes
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: limit) } catch {
            return GatewayServer.json(.contentTooLarge, JSONRPC.error(id: nil, JSONRPC.Failure(EngineError(.limit, "the request body is over \(limit) bytes (gateway.limits.maxRequestBytes)"))))
        }
        let headers = request.headers.map { ($0.name.canonicalName, $0.value) }
        let pluginRequest = GatewayRequest(kind: .route, method: request.method.rawValue, path: asked, query: request.uri.query ?? "",
                                           headers: headers, body: Array(buffer: body), principal: isOperator ? "operator" : nil,
                                           clientAddress: context.clientAddress)
        let reply: PendingReply
        do { reply = try gateway.call(route, pluginRequest) } catch { return GatewayServer.failure(error) }
        switch await withTaskCancellationHandler(operation: { await reply.outcome() }, onCancel: { reply.clientGone() }) {
        case .response(let status, let headers, let body):
            return Response(status: .init(code: status), headers: Self.fields(headers), body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        case .stream(let status, let headers, let chunks):
            return Response(status: .init(code: status), headers: Self.fields(headers), body: ResponseBody { writer in
                do {
                    for await chunk in chunks {
                        try await writer.write(ByteBuffer(bytes: chunk))
                        reply.sent(chunk.count)
                    }
                    try await writer.finish(nil)
                } catch {
                    reply.clientGone()
                    throw error
                }
            })
        case .failed(let error): return GatewayServer.failure(error)
        case .result, .error:
            return GatewayServer.failure(EngineError(.internalFailure, "plugin '\(reply.pluginId)' answered an HTTP request as a method"))
        }
    }

    static func fields(_ headers: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return fields
    }
}
