// The operator's settings for `pincer serve`: where it listens, the bearer token
// that guards it, the WebSocket heartbeat, and a bound on every resource a
// client can make the server hold. Read from the config's "gateway" object
// (OperatorConfig); every limit has a default, every refusal names its setting.
//
//   "gateway": {
//     "listen": "127.0.0.1:7420",     host:port; any address but loopback needs a token
//     "token": "…" | "tokenEnv": "PINCER_GATEWAY_TOKEN",   the operator's bearer token
//     "heartbeat": { "intervalMs": 25000, "maxMissed": 2 },
//     "limits": { "maxConnections": 256, "maxWebSocketClients": 128,
//                 "maxRequestBytes": 1048576, "maxFrameBytes": 1048576,
//                 "maxInFlightPerClient": 16, "maxOutboundQueue": 256,
//                 "maxSubscriptionsPerClient": 32 },
//     "shutdownGraceMs": 10000,      how long runs get to end at SIGTERM before they are interrupted
//     "pluginReplyTimeoutMs": 30000, how long a plugin has to answer its method or route
//     "aliases": { "/.well-known/agent-card.json": "/plugins/a2a-bridge/agent-card" }
//   }

import Foundation

public struct GatewaySettings: Sendable, Equatable {
    public var listenHost = "127.0.0.1"
    public var listenPort = 7420
    /// The token itself (gateway.token), or the environment variable holding it (gateway.tokenEnv).
    public var token: String?
    public var tokenEnv: String?
    /// The server pings each WebSocket client this often, and closes one that missed `heartbeatMaxMissed` in a row.
    public var heartbeatIntervalMs = 25_000
    public var heartbeatMaxMissed = 2
    /// Open TCP connections; past it the server stops accepting until one closes.
    public var maxConnections = 256
    /// WebSocket clients at once; past it an upgrade is refused with 503.
    public var maxWebSocketClients = 128
    /// An HTTP request body; past it 413 and a JSON-RPC error.
    public var maxRequestBytes = 1 << 20
    /// A WebSocket message (frames are joined up to this).
    public var maxFrameBytes = 1 << 20
    /// Requests one client has started and not yet answered; past it each is refused at once.
    public var maxInFlightPerClient = 16
    /// Messages waiting to be written to one WebSocket client; a client that lets it fill is closed.
    public var maxOutboundQueue = 256
    /// runs.subscribe streams one WebSocket client holds open.
    public var maxSubscriptionsPerClient = 32
    public var shutdownGraceMs = 10_000
    /// How long a plugin has to answer a request for its method or route (to start, for a stream).
    public var pluginReplyTimeoutMs = 30_000
    /// Well-known paths served by a plugin's route: alias → "/plugins/<plugin-id>/…".
    public var aliases: [String: String] = [:]

    public init() {}

    /// The token the server requires (nil: none), read from the environment when the config names a variable.
    public func resolvedToken(environment: [String: String] = ProcessInfo.processInfo.environment) throws(OperatorConfig.Invalid) -> String? {
        if let token { return token }
        guard let tokenEnv else { return nil }
        guard let value = environment[tokenEnv], !value.isEmpty else {
            throw OperatorConfig.Invalid(description: "gateway.tokenEnv names the environment variable \(tokenEnv), which is not set (or empty)")
        }
        return value
    }

    /// "host:port" (IPv6 in brackets) as a listen address, or nil when it is not one.
    public static func listenAddress(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
              let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        return (String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }

    /// Whether `host` is a loopback address, the only kind served without a token.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
