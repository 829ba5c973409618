// The gateway methods and routes plugins registered (gateway.h), and the
// requests handed to them that wait for an answer. The server (PincerGateway)
// looks a request up here and gets a PendingReply to wait on; the plugin's
// handler runs on a parked thread of its own, never on a server's event loop,
// and answers through the extension table (GatewayThunks) from any thread.
// Bounds: the registrations per plugin (PluginContext), the requests pending
// per plugin (PINCER_GATEWAY_MAX_PENDING_REPLIES), and the operator's reply
// timeout (gateway.pluginReplyTimeoutMs).

import CPincer
import Dispatch
import PincerCore
import Synchronization

/// A request for a plugin's method or route, as the server received it.
public struct GatewayRequest: Sendable {
    public var kind: PendingReply.Kind
    /// The full method name, or the HTTP method.
    public var method: String
    public var path: String?
    public var query: String?
    public var headers: [(String, String)]
    /// The params as JSON text, or the HTTP body.
    public var body: [UInt8]
    public var principal: String?
    public var clientAddress: String

    public init(kind: PendingReply.Kind, method: String, path: String? = nil, query: String? = nil, headers: [(String, String)] = [],
                body: [UInt8], principal: String?, clientAddress: String) {
        (self.kind, self.method, self.path, self.query, self.headers) = (kind, method, path, query, headers)
        (self.body, self.principal, self.clientAddress) = (body, principal, clientAddress)
    }
}

public final class PluginGateway: Sendable {
    /// A registered method, as rpc.methods lists it.
    public struct Method: Sendable {
        public let name: String
        public let pluginId: String
        public let description: String?
        let handler: PluginGatewayHandler
    }

    /// A registered route.
    public struct Route: Sendable {
        public let pluginId: String
        /// nil: every HTTP method.
        public let method: String?
        /// The full path, "/plugins/<plugin-id>/…".
        public let path: String
        public let matchesBelow: Bool
        public let isPublic: Bool
        let registrationId: UInt64
        let handler: PluginGatewayHandler

        func matches(path candidate: String, method requested: String) -> Bool {
            guard method == nil || method == requested else { return false }
            return candidate == path || (matchesBelow && candidate.hasPrefix(path + "/"))
        }
    }

    private struct Table {
        var methods: [String: Method] = [:]
        var routes: [Route] = []
        var pending: [UInt64: PendingReply] = [:]
        var pendingPerPlugin: [String: Int] = [:]
        var nextReply: UInt64 = 1
    }

    private let table = Mutex(Table())
    private let threads = ParkedThreads(name: "pincer-gateway-plugin")
    private let replyTimeoutMs = Atomic<Int>(30_000)

    public init() {}

    /// gateway.pluginReplyTimeoutMs: how long a plugin has to answer (a route: to start answering).
    public func setReplyTimeout(ms: Int) { replyTimeoutMs.store(ms, ordering: .relaxed) }

    // MARK: - Registrations (from the thunks)

    func add(_ method: Method) throws(CallError) {
        try table.withLock { (table) throws(CallError) in
            guard table.methods[method.name] == nil else { throw CallError(ResultCode.invalidArgument, "method '\(method.name)' is already registered") }
            table.methods[method.name] = method
        }
    }

    func removeMethod(named name: String) { _ = table.withLock { $0.methods.removeValue(forKey: name) } }

    func add(_ route: Route) throws(CallError) {
        try table.withLock { (table) throws(CallError) in
            if table.routes.contains(where: { $0.path == route.path && $0.method == route.method }) {
                throw CallError(ResultCode.invalidArgument, "route \(route.method ?? "*") \(route.path) is already registered")
            }
            table.routes.append(route)
        }
    }

    func removeRoute(registration id: UInt64) { table.withLock { $0.routes.removeAll { $0.registrationId == id } } }

    /// Why `path` is not a route path a plugin may give (gateway.h), or nil.
    static func pathProblem(_ path: String) -> String? {
        guard path.utf8.count <= Int(PINCER_GATEWAY_PATH_MAX_BYTES) else {
            return "route->path is over PINCER_GATEWAY_PATH_MAX_BYTES (\(PINCER_GATEWAY_PATH_MAX_BYTES))"
        }
        guard path.hasPrefix("/"), path.count > 1 else { return "route->path '\(path)' must start with '/' and name something below it" }
        for segment in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty, segment != ".", segment != ".." else {
                return "route->path '\(path)' has an empty, '.' or '..' segment: it stays below /plugins/<plugin-id>"
            }
            guard segment.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || "._~-".utf8.contains($0) }) else {
                return "route->path '\(path)': a segment holds only A-Z a-z 0-9 . _ ~ -"
            }
        }
        return nil
    }

    // MARK: - Lookups (the server)

    public var methods: [Method] { table.withLock { $0.methods.values.sorted { $0.name < $1.name } } }

    public func routes(of pluginId: String) -> [Route] {
        table.withLock { $0.routes.filter { $0.pluginId == pluginId }.sorted { $0.path < $1.path } }
    }

    public func hasMethod(_ name: String) -> Bool { table.withLock { $0.methods[name] != nil } }

    /// The route serving `path` for `method` (the longest registered path wins).
    public func route(path: String, method: String) -> Route? {
        table.withLock { table in
            table.routes.filter { $0.matches(path: path, method: method) }.max { $0.path.count < $1.path.count }
        }
    }

    /// Whether any route serves `path` for some method (an unknown method gets 405, not 404).
    public func hasRoute(path: String) -> Bool {
        table.withLock { $0.routes.contains { $0.path == path || ($0.matchesBelow && path.hasPrefix($0.path + "/")) } }
    }

    // MARK: - Requests

    /// Hands a method call to its plugin; the server waits on the reply.
    public func call(method name: String, _ request: GatewayRequest) throws(EngineError) -> PendingReply {
        guard let method = table.withLock({ $0.methods[name] }) else {
            throw EngineError(.notFound, "no method '\(name)'")
        }
        return try dispatch(request, to: method.handler, pluginId: method.pluginId)
    }

    /// Hands an HTTP request to the route's plugin.
    public func call(_ route: Route, _ request: GatewayRequest) throws(EngineError) -> PendingReply {
        try dispatch(request, to: route.handler, pluginId: route.pluginId)
    }

    private func dispatch(_ request: GatewayRequest, to handler: PluginGatewayHandler, pluginId: String) throws(EngineError) -> PendingReply {
        let limit = Int(PINCER_GATEWAY_MAX_PENDING_REPLIES)
        let reply = try table.withLock { (table) throws(EngineError) -> PendingReply in
            let held = table.pendingPerPlugin[pluginId, default: 0]
            guard held < limit else {
                throw EngineError(.limit, "plugin '\(pluginId)' has \(held) requests waiting for its answer (at most PINCER_GATEWAY_MAX_PENDING_REPLIES = \(limit))")
            }
            let id = table.nextReply
            table.nextReply += 1
            let reply = PendingReply(id: id, kind: request.kind, pluginId: pluginId) { [weak self] id in self?.forget(id) }
            table.pending[id] = reply
            table.pendingPerPlugin[pluginId] = held + 1
            return reply
        }
        let timeoutMs = replyTimeoutMs.load(ordering: .relaxed)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(timeoutMs)) { [weak reply] in
            reply?.fail(EngineError(.timeout, "plugin '\(pluginId)' did not answer \(request.method) within gateway.pluginReplyTimeoutMs (\(timeoutMs) ms)"),
                        unansweredOnly: true)
        }
        threads.submit {
            if !handler.handle(request, reply: reply.id) {
                reply.fail(EngineError(.shuttingDown, "plugin '\(pluginId)' is stopping; its \(request.kind == .method ? "method" : "route") is withdrawn"))
            }
        }
        return reply
    }

    private func forget(_ id: UInt64) {
        table.withLock { table in
            guard let reply = table.pending.removeValue(forKey: id) else { return }
            table.pendingPerPlugin[reply.pluginId, default: 1] -= 1
        }
    }

    /// The plugin's own pending request `id` (a thunk's reply handle), else NOT_FOUND.
    func pending(_ id: UInt64, of pluginId: String) throws(CallError) -> PendingReply {
        guard let reply = table.withLock({ $0.pending[id] }), reply.pluginId == pluginId else {
            throw CallError(ResultCode.notFound, "reply \(id) is not pending: it was answered, timed out, its client went away, or it was never this plugin's")
        }
        return reply
    }

    /// The plugin is stopping: its pending requests are answered for it (SHUT_DOWN), its
    /// streams cut, and all of them forgotten.
    func stop(pluginId: String) {
        let replies = table.withLock { table in
            let mine = table.pending.values.filter { $0.pluginId == pluginId }
            for reply in mine { table.pending[reply.id] = nil }
            table.pendingPerPlugin[pluginId] = nil
            return mine
        }
        for reply in replies { reply.fail(EngineError(.shuttingDown, "plugin '\(pluginId)' stopped before it answered")) }
    }
}
