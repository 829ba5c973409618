// What the host reports about itself (host->status, `pincer` and the
// gateway's `status`): counts taken under the engine's lock, rendered outside
// it. The gateway methods a plugin may call (read-only ones only) live here too.

public struct StatusReport: Sendable {
    var hostVersion: String
    var abiVersion: String
    var uptimeMs: UInt64
    var plugins: [PluginSummary]
    var sessionStates: [SessionState: Int]
    var queuedRuns: Int
    var runningRuns: Int
    var endedRuns: [RunStatus: Int]
    var guards: JSON
    var defaultModel: String
    var modelCount: Int

    public var json: JSON {
        let sessions = sessionStates.values.reduce(0, +)
        return .object([
            ("host", "pincer"), ("version", .string(hostVersion)), ("abi", .string(abiVersion)), ("uptimeMs", JSON(uptimeMs)),
            ("plugins", .array(plugins.map { p in
                var m: [(String, JSON)] = [("id", .string(p.id)), ("version", .string(p.version)), ("state", .string(p.state))]
                if let reason = p.reason { m.append(("reason", .string(reason))) }
                return .object(m)
            })),
            ("sessions", ["total": JSON(sessions), "idle": JSON(sessionStates[.idle] ?? 0),
                          "streaming": JSON(sessionStates[.streaming] ?? 0), "compacting": JSON(sessionStates[.compacting] ?? 0)]),
            ("runs", ["active": JSON(queuedRuns + runningRuns), "queued": JSON(queuedRuns), "running": JSON(runningRuns),
                      "completed": JSON(endedRuns[.completed] ?? 0), "failed": JSON(endedRuns[.failed] ?? 0),
                      "timedOut": JSON(endedRuns[.timedOut] ?? 0), "cancelled": JSON(endedRuns[.cancelled] ?? 0)]),
            ("guards", guards),
            ("models", ["default": .string(defaultModel), "count": JSON(modelCount)]),
        ])
    }
}

/// The gateway's methods, and the read-only few a plugin may call (host->gateway_request).
public enum GatewayMethods {
    public static let pluginAllowlist = ["status", "models.list"]
    public static let all = ["health", "status", "models.list", "plugins.list", "sessions.list", "sessions.get",
                             "sessions.create", "sessions.prompt", "sessions.steer", "sessions.delete",
                             "sessions.messages", "runs.wait", "runs.subscribe"]
}
