// The "pincer.gateway/1" table (gateway.h): one @_cdecl thunk per entry. Each
// checks the handle and the plugin's phase like every host function
// (HostThunks.call), reads its request under the struct-size rule, and hands
// the answer to the plugin's own PendingReply; a reply handle that is not the
// plugin's, or no longer pending, is NOT_FOUND.

import CPincer
import PincerCore

typealias GatewayReplyHandle = pincer_gateway_reply

enum GatewayExtension {
    static let id = PINCER_GATEWAY_EXTENSION_ID

    /// The table every plugin gets: the same functions for all, each told apart by its host handle.
    nonisolated(unsafe) static let table: UnsafeMutablePointer<pincer_gateway_v1> = {
        let table = UnsafeMutablePointer<pincer_gateway_v1>.allocate(capacity: 1)
        table.initialize(to: pincer_gateway_v1(
            struct_size: UInt32(MemoryLayout<pincer_gateway_v1>.size),
            register_method: pincerGatewayRegisterMethod, register_route: pincerGatewayRegisterRoute,
            reply_result: pincerGatewayReplyResult, reply_error: pincerGatewayReplyError, respond: pincerGatewayRespond,
            stream_start: pincerGatewayStreamStart, stream_write: pincerGatewayStreamWrite, stream_end: pincerGatewayStreamEnd))
        return table
    }()

    static let replyLimit = Int(PINCER_GATEWAY_REPLY_MAX_BYTES)

    /// The plugin's pending request behind `reply`, of the kind the call answers.
    static func pending(_ context: PluginContext, _ reply: GatewayReplyHandle, _ kind: PendingReply.Kind) throws(CallError) -> PendingReply {
        let pending = try context.gateway.pending(reply, of: context.id)
        guard pending.kind == kind else {
            throw CallError(ResultCode.invalidArgument, kind == .method
                ? "reply \(reply) answers an HTTP request: use respond or stream_start"
                : "reply \(reply) answers a method call: use reply_result or reply_error")
        }
        return pending
    }

    /// A response (or a stream's head): status and headers, and the body when `withBody`.
    static func response(_ pointer: UnsafePointer<pincer_gateway_response>?, _ field: String, withBody: Bool) throws(CallError)
        -> (status: Int, headers: [(String, String)], body: [UInt8])
    {
        let response = try HostThunks.request(pointer, field, "pincer_gateway_response",
                                               required: HostThunks.end(of: \pincer_gateway_response.header_count))
        guard (200...599).contains(response.status) else { throw CallError(ResultCode.invalidArgument, "\(field)->status is \(response.status); 200 to 599") }
        let maxHeaders = Int(PINCER_GATEWAY_MAX_RESPONSE_HEADERS)
        guard response.header_count <= maxHeaders else {
            throw CallError(ResultCode.invalidArgument, "\(field)->header_count is \(response.header_count); at most PINCER_GATEWAY_MAX_RESPONSE_HEADERS (\(maxHeaders))")
        }
        guard response.header_count == 0 || response.headers != nil else { throw CallError(ResultCode.invalidArgument, "\(field)->headers is NULL with header_count \(response.header_count)") }
        var headers: [(String, String)] = [], total = 0
        let limit = Int(PINCER_GATEWAY_HEADER_MAX_BYTES)
        for i in 0..<response.header_count {
            let header = response.headers![i]
            let name = try CText.requiredString(header.name, "\(field)->headers[\(i)].name", max: limit)
            let value = try CText.requiredString(header.value, "\(field)->headers[\(i)].value", max: limit)
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains($0) }) else {
                throw CallError(ResultCode.invalidArgument, "\(field)->headers[\(i)].name '\(name)' is not an HTTP token")
            }
            guard !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else {
                throw CallError(ResultCode.invalidArgument, "\(field)->headers[\(i)].value holds CR or LF")
            }
            total += name.utf8.count + value.utf8.count
            guard total <= limit else { throw CallError(ResultCode.invalidArgument, "\(field)->headers together are over PINCER_GATEWAY_HEADER_MAX_BYTES (\(limit))") }
            let lower = name.lowercased()
            if lower != "content-length", lower != "transfer-encoding" { headers.append((name, value)) }
        }
        guard withBody else {
            guard response.body == nil, response.body_len == 0 else { throw CallError(ResultCode.invalidArgument, "\(field)->body must be NULL and body_len 0 for stream_start: write the body with stream_write") }
            return (Int(response.status), headers, [])
        }
        return (Int(response.status), headers, try bytes(response.body, response.body_len, "\(field)->body"))
    }

    static func bytes(_ pointer: UnsafePointer<UInt8>?, _ count: Int, _ field: String) throws(CallError) -> [UInt8] {
        guard count <= replyLimit else { throw CallError(ResultCode.invalidArgument, "\(field) is \(count) bytes; at most PINCER_GATEWAY_REPLY_MAX_BYTES (\(replyLimit))") }
        guard count > 0 else { return [] }
        guard let pointer else { throw CallError(ResultCode.invalidArgument, "\(field) is NULL with a length of \(count)") }
        return Array(UnsafeBufferPointer(start: pointer, count: count))
    }

    /// Registers a method or a route: the common steps of both thunks.
    static func register(_ context: PluginContext, kind: Registration.Kind, claim: String, handler: pincer_gateway_handler?, field: String,
                         userContext: UnsafeMutableRawPointer?, release: pincer_release_fn?,
                         add: @escaping (PluginGatewayHandler, Registration) throws(CallError) -> Void,
                         remove: @escaping @Sendable (Registration) -> Void) throws(CallError) -> UInt64
    {
        guard let handler else { throw CallError(ResultCode.invalidArgument, "\(field)->handler is NULL") }
        let registration = Registration(plugin: context, kind: kind, context: userContext, release: release)
        let gatewayHandler = PluginGatewayHandler(plugin: context, registration: registration, handler: handler)
        try context.add(registration, claiming: claim) { () throws(CallError) in
            try add(gatewayHandler, registration)
            registration.setRemoval { remove(registration) }
        }
        return registration.id
    }
}

@_cdecl("pincer_gateway_register_method")
func pincerGatewayRegisterMethod(_ host: HostHandle, _ definition: UnsafePointer<pincer_gateway_method_definition>?,
                                 _ out: UnsafeMutablePointer<pincer_registration>?) -> pincer_result
{
    HostThunks.call(host, needs: .gatewayServe) { (context) throws(CallError) in
        let definition = try HostThunks.request(definition, "method", "pincer_gateway_method_definition",
                                                required: HostThunks.end(of: \pincer_gateway_method_definition.handler))
        let name = try CText.requiredString(definition.name, "method->name", max: Int(PINCER_GATEWAY_NAME_MAX_BYTES))
        if let problem = PluginTool.nameProblem(name, plugin: context.id, field: "method->name") { throw CallError(ResultCode.invalidArgument, problem) }
        let description = try CText.string(definition.description, "method->description", max: Int(PINCER_GATEWAY_DESCRIPTION_MAX_BYTES), required: false)
        let gateway = context.gateway
        // Registered whether or not the plugin asked for the handle (an `out?.pointee = try …`
        // would skip the registration itself when out is NULL).
        let id = try GatewayExtension.register(
            context, kind: .method, claim: "method '\(name)'", handler: definition.handler, field: "method", userContext: definition.context, release: definition.release,
            add: { (handler, _) throws(CallError) in
                try gateway.add(PluginGateway.Method(name: name, pluginId: context.id, description: description, handler: handler))
            },
            remove: { _ in gateway.removeMethod(named: name) })
        out?.pointee = id
    }
}

@_cdecl("pincer_gateway_register_route")
func pincerGatewayRegisterRoute(_ host: HostHandle, _ definition: UnsafePointer<pincer_gateway_route_definition>?,
                                _ out: UnsafeMutablePointer<pincer_registration>?) -> pincer_result
{
    HostThunks.call(host, needs: .gatewayServe) { (context) throws(CallError) in
        let definition = try HostThunks.request(definition, "route", "pincer_gateway_route_definition",
                                                required: HostThunks.end(of: \pincer_gateway_route_definition.handler))
        let known = PINCER_GATEWAY_ROUTE_PREFIX | PINCER_GATEWAY_ROUTE_PUBLIC
        guard definition.flags & ~known == 0 else {
            throw CallError(ResultCode.invalidArgument, "route->flags is \(definition.flags); only PINCER_GATEWAY_ROUTE_PREFIX and PINCER_GATEWAY_ROUTE_PUBLIC are defined")
        }
        let method = try CText.string(definition.method, "route->method", max: 16, required: false)
        if let method, method.isEmpty || !method.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) {
            throw CallError(ResultCode.invalidArgument, "route->method '\(method)' must be an upper-case HTTP method (GET, POST, …) or NULL for every method")
        }
        let path = try CText.requiredString(definition.path, "route->path", max: Int(PINCER_GATEWAY_PATH_MAX_BYTES))
        if let problem = PluginGateway.pathProblem(path) { throw CallError(ResultCode.invalidArgument, problem) }
        let gateway = context.gateway
        let flags = definition.flags
        let id = try GatewayExtension.register(
            context, kind: .route, claim: "route \(method ?? "*") \(path)", handler: definition.handler, field: "route", userContext: definition.context, release: definition.release,
            add: { (handler, registration) throws(CallError) in
                try gateway.add(PluginGateway.Route(pluginId: context.id, method: method, path: "/plugins/\(context.id)\(path)",
                                                    matchesBelow: flags & PINCER_GATEWAY_ROUTE_PREFIX != 0,
                                                    isPublic: flags & PINCER_GATEWAY_ROUTE_PUBLIC != 0,
                                                    registrationId: registration.id, handler: handler))
            },
            remove: { registration in gateway.removeRoute(registration: registration.id) })
        out?.pointee = id
    }
}

@_cdecl("pincer_gateway_reply_result")
func pincerGatewayReplyResult(_ host: HostHandle, _ reply: GatewayReplyHandle, _ resultJSON: UnsafePointer<CChar>?) -> pincer_result {
    HostThunks.call(host, needs: nil) { (context) throws(CallError) in
        let pending = try GatewayExtension.pending(context, reply, .method)
        let text = try CText.requiredString(resultJSON, "result_json", max: GatewayExtension.replyLimit)
        let result: JSON
        do { result = try JSON.parse(text) } catch {
            try pending.answer(.error(code: -32603, message: "the plugin's result is not JSON"))
            throw CallError(ResultCode.invalidArgument, "result_json is not valid JSON (\(error)); the client was sent an error")
        }
        try pending.answer(.result(result))
    }
}

@_cdecl("pincer_gateway_reply_error")
func pincerGatewayReplyError(_ host: HostHandle, _ reply: GatewayReplyHandle, _ code: Int32, _ message: UnsafePointer<CChar>?) -> pincer_result {
    HostThunks.call(host, needs: nil) { (context) throws(CallError) in
        let pending = try GatewayExtension.pending(context, reply, .method)
        let text = try CText.requiredString(message, "message", max: GatewayExtension.replyLimit)
        try pending.answer(.error(code: Int(code), message: text))
    }
}

@_cdecl("pincer_gateway_respond")
func pincerGatewayRespond(_ host: HostHandle, _ reply: GatewayReplyHandle, _ response: UnsafePointer<pincer_gateway_response>?) -> pincer_result {
    HostThunks.call(host, needs: nil) { (context) throws(CallError) in
        let pending = try GatewayExtension.pending(context, reply, .route)
        let (status, headers, body) = try GatewayExtension.response(response, "response", withBody: true)
        try pending.answer(.response(status: status, headers: headers, body: body))
    }
}

@_cdecl("pincer_gateway_stream_start")
func pincerGatewayStreamStart(_ host: HostHandle, _ reply: GatewayReplyHandle, _ head: UnsafePointer<pincer_gateway_response>?) -> pincer_result {
    HostThunks.call(host, needs: nil) { (context) throws(CallError) in
        let pending = try GatewayExtension.pending(context, reply, .route)
        let (status, headers, _) = try GatewayExtension.response(head, "head", withBody: false)
        try pending.start(status: status, headers: headers)
    }
}

@_cdecl("pincer_gateway_stream_write")
func pincerGatewayStreamWrite(_ host: HostHandle, _ reply: GatewayReplyHandle, _ data: UnsafePointer<UInt8>?, _ length: Int) -> pincer_result {
    HostThunks.call(host, needs: nil) { (context) throws(CallError) in
        let pending = try GatewayExtension.pending(context, reply, .route)
        try pending.write(try GatewayExtension.bytes(data, length, "data"))
    }
}

@_cdecl("pincer_gateway_stream_end")
func pincerGatewayStreamEnd(_ host: HostHandle, _ reply: GatewayReplyHandle) -> pincer_result {
    HostThunks.call(host, needs: nil) { (context) throws(CallError) in
        try GatewayExtension.pending(context, reply, .route).end()
    }
}
