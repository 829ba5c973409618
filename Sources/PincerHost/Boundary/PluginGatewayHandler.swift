// A gateway method or route a plugin registered, seen from the gateway: builds
// the C request (gateway.h) for the call, calls the plugin's handler (counted
// as a running callback) and leaves the answer to the reply handle.

import CPincer
import PincerCore

#if canImport(Glibc)
import Glibc
#endif

struct PluginGatewayHandler: Sendable {
    let plugin: PluginContext
    let registration: Registration
    let handler: pincer_gateway_handler

    /// Calls the plugin with `request`; false when the registration is withdrawn or the
    /// plugin is stopping (the handler was not called).
    func handle(_ request: GatewayRequest, reply: UInt64) -> Bool {
        guard registration.enter() else { return false }
        defer { registration.exit() }
        // Copies that live for the call: the C request points into them.
        let texts: [UnsafeMutablePointer<CChar>?] = [request.method, request.path, request.query, request.principal, request.clientAddress]
            .map { $0.map { strdup($0)! } }
        let headerTexts = request.headers.flatMap { [strdup($0.0)!, strdup($0.1)!] }
        defer { (texts + headerTexts.map { Optional($0) }).forEach { free($0) } }
        var headers = stride(from: 0, to: headerTexts.count, by: 2).map {
            pincer_gateway_header(name: UnsafePointer(headerTexts[$0]), value: UnsafePointer(headerTexts[$0 + 1]))
        }
        // The body, followed by a NUL that body_len does not count.
        var body = request.body + [0]
        headers.withUnsafeMutableBufferPointer { headerBuffer in
            body.withUnsafeMutableBufferPointer { bodyBuffer in
                var cRequest = pincer_gateway_request(
                    struct_size: UInt32(MemoryLayout<pincer_gateway_request>.size),
                    kind: Int32(request.kind == .method ? PINCER_GATEWAY_METHOD.rawValue : PINCER_GATEWAY_ROUTE.rawValue),
                    reply: reply, method: texts[0], path: texts[1], query: texts[2],
                    headers: request.headers.isEmpty ? nil : UnsafePointer(headerBuffer.baseAddress), header_count: request.headers.count,
                    body: UnsafePointer(bodyBuffer.baseAddress), body_len: request.body.count,
                    principal: texts[3], client_address: texts[4])
                handler(registration.context, &cRequest)
            }
        }
        return true
    }
}
