// The engine's settings. The host fills them from the operator's config file;
// the defaults are the embedded ones a fresh machine runs with.

import Foundation

public struct EngineConfig: Sendable {
    /// Sessions that may have a run at work at once, across all callers: each holds a worker
    /// thread while its queue drains. Past it, spawn and prompt are refused (PINCER_ERR_LIMIT).
    public var maxConcurrentRuns = 256
    /// Plugin-spawned sessions that may have an active run at once.
    public var maxConcurrentSpawns = 10
    /// Plugin spawns allowed in any sliding minute, across all plugins.
    public var maxSpawnsPerMinute = 20
    /// Children the operator's sessions spawn (sessions_spawn) that may have an active run at
    /// once; a plugin's sessions' children are the plugin's and count against the two above.
    public var maxConcurrentChildSessions = 10
    public var defaultModel = "local/scripted"
    /// The built-in local model's pause before each token.
    public var tokenDelayMs = 5
    /// Run timeout when a spawn asks for none.
    public var defaultRunTimeoutSeconds = 300
    /// Model turns a run may take before it fails.
    public var maxTurns = 16
    /// Transcript size (characters of content) past which, before a model turn, everything
    /// before the current run is compacted into one summary message.
    public var compactionBudgetChars = 200_000
    /// Rate-limit keys each plugin may have tracked at once.
    public var rateLimitMaxKeysPerPlugin = 100_000
    /// Sessions held at once (in memory and in the store); past it idle ones are deleted, the
    /// least recently active of the caller holding the most first (SessionRetention).
    public var maxSessions = 100_000
    /// Ended runs kept for wait() and listings before the oldest are forgotten, in memory and in
    /// the store (which deletes what is forgotten, with its events).
    public var retainedRuns = 10_000
    /// …and at most this many bytes of them (messages, final texts, errors, events).
    public var retainedRunBytes = 64 << 20
    /// The host's tool policy, checked before each session's own: a session can only narrow it.
    public var toolPolicy = ToolPolicy()
    /// Plugins the operator lets reach every session, not only those they created.
    public var fullSessionAccess: Set<String> = []
    /// Plugins whose sessions may use tools other plugins registered (by default a plugin's
    /// sessions get the host's tools and the plugin's own only).
    public var otherPluginsTools: Set<String> = []
    /// Plugins the operator lets choose a model: nil allows any catalog model, a list only those.
    public var modelOverrides: [String: [String]?] = [:]
    /// Whether plugins may use external agents (plugins.allowAcpSpawn), and those that may not
    /// whatever it says (plugins.entries.<id>.allowAcpSpawn = false).
    public var allowAcpSpawn = false
    public var acpSpawnDenied: Set<String> = []
    /// The deadline of a hook that asks for none (operator config hooks.defaultDeadlineMs).
    public var hookDeadlineMs: UInt32 = 1000
    /// The directory sessions' work runs in, as hooks are told (engine.workspaceDir).
    public var workspaceDir = FileManager.default.currentDirectoryPath
    /// Reported in the status summary; the host sets both from PincerVersion (version.h), the
    /// engine itself knows no version ("unknown" in an engine made without a host).
    public var hostVersion = "unknown"
    public var abiVersion = "unknown"

    public init() {}
}

/// A loaded (or refused) plugin, as the status summary lists it.
public struct PluginSummary: Sendable, Equatable {
    public var id: String
    public var version: String
    public var state: String
    public var reason: String?

    public init(id: String, version: String, state: String, reason: String? = nil) {
        self.id = id
        self.version = version
        self.state = state
        self.reason = reason
    }
}
