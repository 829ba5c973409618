// The gateway (gateway.h, "pincer.gateway/1", ABI 1.1): a plugin's own JSON-RPC
// methods and HTTP routes on `pincer serve`. `host.gateway` is nil on a host
// without it (an older one): degrade. A handler gets an owned copy of the
// request and a `GatewayReply` it may answer from any thread, now or later;
// a request is answered exactly once. Registrations follow the tools' rules
// (Registrations.swift): the closure is released once the host withdraws it.

/// A request for one of the plugin's methods or routes, copied out of the host's struct.
public struct GatewayRequest: Sendable {
    public enum Kind: Sendable { case method, route }

    public let kind: Kind
    /// A method's full name, or a route's HTTP method ("GET", "POST", …).
    public let method: String
    /// A route's path as asked (nil for a method) and its query ("" when none).
    public let path: String?
    public let query: String?
    /// A route's headers, names lower-case, in order.
    public let headers: [(name: String, value: String)]
    /// A method's params as JSON text ("null" for none), or a route's body.
    public let body: [UInt8]
    /// "operator" when the caller showed the operator's token; nil for anyone else (public routes).
    public let principal: String?
    public let clientAddress: String
    public let reply: GatewayReply

    /// The body as text (a method's params are always JSON text).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// The answer to one request, usable from any thread; each function answers it (or a stream) once.
public struct GatewayReply: Sendable {
    let gateway: PincerGateway
    public let handle: pincer_gateway_reply

    /// A method's result: JSON text of any type.
    public func result(json: String) throws {
        try withCText(json, "json") { json in try gateway.host.check(gateway.table.pointee.reply_result!(gateway.host.raw, handle, json)) }
    }

    /// A method's JSON-RPC error (-32000 to -32099 are the server's range).
    public func error(code: Int32, message: String) throws {
        try withCText(message, "message") { message in
            try gateway.host.check(gateway.table.pointee.reply_error!(gateway.host.raw, handle, code, message))
        }
    }

    /// A route's whole response.
    public func respond(status: UInt32, headers: [(String, String)] = [], body: [UInt8] = []) throws {
        try withResponse(status: status, headers: headers, body: body) { response in
            try gateway.host.check(gateway.table.pointee.respond!(gateway.host.raw, handle, response))
        }
    }

    /// Starts a route's streamed response; write the body with `write`, then `end`.
    public func streamStart(status: UInt32, headers: [(String, String)] = []) throws {
        try withResponse(status: status, headers: headers, body: []) { head in
            try gateway.host.check(gateway.table.pointee.stream_start!(gateway.host.raw, handle, head))
        }
    }

    /// The next bytes of a started stream. `.wouldBlock`: write them again later; `.shutDown`: the client left, `end()`.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBufferPointer { buffer in
            try gateway.host.check(gateway.table.pointee.stream_write!(gateway.host.raw, handle, buffer.baseAddress, buffer.count))
        }
    }

    public func end() throws { try gateway.host.check(gateway.table.pointee.stream_end!(gateway.host.raw, handle)) }

    private func withResponse(status: UInt32, headers: [(String, String)], body: [UInt8],
                              _ call: (UnsafePointer<pincer_gateway_response>) throws -> Void) throws {
        let names = headers.map(\.0), values = headers.map(\.1)
        try withCTextList(names, "headers") { namePointers, _ in
            try withCTextList(values, "headers") { valuePointers, _ in
                var cHeaders = (0..<headers.count).map { pincer_gateway_header(name: namePointers![$0], value: valuePointers![$0]) }
                try cHeaders.withUnsafeMutableBufferPointer { headerBuffer in
                    try body.withUnsafeBufferPointer { bodyBuffer in
                        var response = pincer_gateway_response()
                        response.struct_size = UInt32(MemoryLayout<pincer_gateway_response>.size)
                        response.status = status
                        response.headers = UnsafePointer(headerBuffer.baseAddress)
                        response.header_count = headers.count
                        response.body = body.isEmpty ? nil : bodyBuffer.baseAddress
                        response.body_len = body.count
                        try call(&response)
                    }
                }
            }
        }
    }
}

/// A route: HTTP method (nil: every one), path below /plugins/<plugin-id>, public (no operator
/// token: the plugin does its own auth), prefix (every path below it too).
public struct GatewayRoute: Sendable {
    public var method: String?
    public var path: String
    public var isPublic = false
    public var matchesBelow = false

    public init(method: String?, path: String, isPublic: Bool = false, matchesBelow: Bool = false) {
        (self.method, self.path, self.isPublic, self.matchesBelow) = (method, path, isPublic, matchesBelow)
    }
}

/// The host's "pincer.gateway/1" table, for this plugin's handle.
public struct PincerGateway: @unchecked Sendable {  // the table is the host's, immutable, valid until the plugin is dead
    let host: PincerHost
    let table: UnsafePointer<pincer_gateway_v1>

    /// Registers the method "<plugin-id>.<name>" ("gateway.serve"). `handler` runs on a gateway
    /// thread; answer through `request.reply` there or later. A handler that throws before
    /// answering gets its error sent as the JSON-RPC error (and logged).
    @discardableResult
    public func registerMethod(_ name: String, description: String? = nil,
                               _ handler: @escaping @Sendable (GatewayRequest) throws -> Void) throws -> Registration {
        try register(handler) { context, handle in
            try withCText(name, "name") { name in
                try withOptionalCText(description, "description") { description in
                    var definition = pincer_gateway_method_definition()
                    definition.struct_size = UInt32(MemoryLayout<pincer_gateway_method_definition>.size)
                    definition.name = name
                    definition.description = description
                    definition.handler = handleGatewayRequest
                    definition.context = context
                    definition.release = releaseGatewayBox
                    try host.check(table.pointee.register_method!(host.raw, &definition, &handle))
                }
            }
        }
    }

    /// Registers a route under /plugins/<plugin-id> ("gateway.serve"); as registerMethod.
    @discardableResult
    public func registerRoute(_ route: GatewayRoute, _ handler: @escaping @Sendable (GatewayRequest) throws -> Void) throws -> Registration {
        try register(handler) { context, handle in
            try withOptionalCText(route.method, "method") { method in
                try withCText(route.path, "path") { path in
                    var definition = pincer_gateway_route_definition()
                    definition.struct_size = UInt32(MemoryLayout<pincer_gateway_route_definition>.size)
                    definition.flags = (route.isPublic ? PINCER_GATEWAY_ROUTE_PUBLIC : 0) | (route.matchesBelow ? PINCER_GATEWAY_ROUTE_PREFIX : 0)
                    definition.method = method
                    definition.path = path
                    definition.handler = handleGatewayRequest
                    definition.context = context
                    definition.release = releaseGatewayBox
                    try host.check(table.pointee.register_route!(host.raw, &definition, &handle))
                }
            }
        }
    }

    /// Boxes `handler` as the registration's context; a refused registration is never released
    /// by the host, so the box is dropped here.
    private func register(_ handler: @escaping @Sendable (GatewayRequest) throws -> Void,
                          _ call: (UnsafeMutableRawPointer, inout pincer_registration) throws -> Void) throws -> Registration {
        let context = Unmanaged.passRetained(GatewayBox(host: host, body: (self, handler)))
        var handle: pincer_registration = 0
        do { try call(context.toOpaque(), &handle) } catch {
            context.release()
            throw error
        }
        return Registration(rawValue: handle)
    }
}

extension PincerHost {
    /// The gateway ("pincer.gateway/1", ABI 1.1), or nil on a host without it.
    public var gateway: PincerGateway? {
        guard let table = `extension`(PINCER_GATEWAY_EXTENSION_ID)?.assumingMemoryBound(to: pincer_gateway_v1.self),
              Int(table.pointee.struct_size) >= MemoryLayout<pincer_gateway_v1>.size else { return nil }
        return PincerGateway(host: self, table: table)
    }
}

typealias GatewayBox = CallbackBox<(PincerGateway, @Sendable (GatewayRequest) throws -> Void)>

private let releaseGatewayBox: pincer_release_fn = { context in
    Unmanaged<GatewayBox>.fromOpaque(context!).release()
}

private let handleGatewayRequest: pincer_gateway_handler = { context, request in
    let box = Unmanaged<GatewayBox>.fromOpaque(context!).takeUnretainedValue()
    let (gateway, handler) = box.body
    let r = request!.pointee
    let headers = (0..<r.header_count).map { (name: string(r.headers[$0].name), value: string(r.headers[$0].value)) }
    let reply = GatewayReply(gateway: gateway, handle: r.reply)
    let copied = GatewayRequest(kind: r.kind == PINCER_GATEWAY_METHOD.rawValue ? .method : .route, method: string(r.method),
                                path: r.path.map { String(cString: $0) }, query: r.query.map { String(cString: $0) }, headers: headers,
                                body: r.body_len == 0 ? [] : Array(UnsafeBufferPointer(start: r.body, count: r.body_len)),
                                principal: r.principal.map { String(cString: $0) }, clientAddress: string(r.client_address), reply: reply)
    do { try handler(copied) } catch {
        let (code, message) = report(error, in: "gateway handler for \(copied.method)", through: box.host)
        // Answered already? Then these fail with NOT_FOUND, harmlessly.
        if copied.kind == .method { try? reply.error(code: -32000 - code, message: message) } else {
            try? reply.respond(status: 500, headers: [("Content-Type", "text/plain")], body: Array("the plugin failed; the host's log says why\n".utf8))
        }
    }
}
