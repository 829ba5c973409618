// Swift values for what the host table takes and answers. Codes the host
// sends (run status, steer outcome, hook point) are newtypes over the C
// integer, so a value a newer host adds stays representable.

/// A run's status (sessions.h).
public struct RunStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let queued = RunStatus(rawValue: 0)
    public static let running = RunStatus(rawValue: 1)
    public static let completed = RunStatus(rawValue: 2)
    public static let failed = RunStatus(rawValue: 3)
    public static let timedOut = RunStatus(rawValue: 4)
    public static let cancelled = RunStatus(rawValue: 5)
    public static let interrupted = RunStatus(rawValue: 6)

    /// Whether the run has ended (every status but queued and running).
    public var hasEnded: Bool { self != .queued && self != .running }

    private static let names = ["queued", "running", "completed", "failed", "timed_out", "cancelled", "interrupted"]
    public var description: String { RunStatus.names.indices.contains(Int(rawValue)) ? RunStatus.names[Int(rawValue)] : "status \(rawValue)" }
}

/// What steer did with the text (sessions.h).
public struct SteerOutcome: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let queued = SteerOutcome(rawValue: 0)
    public static let noSession = SteerOutcome(rawValue: 1)
    public static let noActiveRun = SteerOutcome(rawValue: 2)
    public static let notStreaming = SteerOutcome(rawValue: 3)
    public static let compacting = SteerOutcome(rawValue: 4)
    public static let busy = SteerOutcome(rawValue: 5)

    private static let names = ["queued", "no_session", "no_active_run", "not_streaming", "compacting", "busy"]
    public var description: String { SteerOutcome.names.indices.contains(Int(rawValue)) ? SteerOutcome.names[Int(rawValue)] : "outcome \(rawValue)" }
}

/// A log severity (log.h).
public struct LogLevel: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let debug = LogLevel(rawValue: 0)
    public static let info = LogLevel(rawValue: 1)
    public static let warn = LogLevel(rawValue: 2)
    public static let error = LogLevel(rawValue: 3)
}

/// What spawn starts: a new session and its first run (pincer_spawn_request).
public struct SpawnRequest: Sendable {
    public var message: String
    public var systemPrompt: String?
    /// Tool names or glob patterns; deny always wins (sessions.h).
    public var toolsAllow: [String]
    public var toolsDeny: [String]
    public var model: String?
    /// 0: the host's default run timeout.
    public var timeoutSeconds: UInt32
    public var label: String?
    /// Initial metadata, a JSON object keyed by plugin id: {"<plugin-id>": {…}, …}.
    public var metadataJSON: String?

    public init(message: String, systemPrompt: String? = nil, toolsAllow: [String] = [], toolsDeny: [String] = [],
                model: String? = nil, timeoutSeconds: UInt32 = 0, label: String? = nil, metadataJSON: String? = nil) {
        self.message = message
        self.systemPrompt = systemPrompt
        self.toolsAllow = toolsAllow
        self.toolsDeny = toolsDeny
        self.model = model
        self.timeoutSeconds = timeoutSeconds
        self.label = label
        self.metadataJSON = metadataJSON
    }
}

/// A spawned session and its first run.
public struct SpawnedSession: Sendable, Hashable {
    public let sessionKey: String
    public let runId: String
}

/// What wait answers: the run's status and, once it ended, its texts.
public struct RunInfo: Sendable, Hashable {
    public let status: RunStatus
    /// The final assistant text when completed.
    public let finalText: String?
    /// Why it failed, timed out or was cancelled.
    public let error: String?
    /// Wall time from start to end (0 while not ended).
    public let durationMs: UInt64
}

/// The rate limiter's answer (rate_limit.h).
public struct RateLimitDecision: Sendable, Hashable {
    /// True when this request fits in the window (and now counts).
    public let allowed: Bool
    /// Requests still allowed in the window after this one.
    public let remaining: UInt32
    /// 0 when allowed; else milliseconds until one more request would be allowed.
    public let retryAfterMs: UInt64

    @usableFromInline
    init(allowed: Bool, remaining: UInt32, retryAfterMs: UInt64) {
        self.allowed = allowed
        self.remaining = remaining
        self.retryAfterMs = retryAfterMs
    }
}

/// A tool or hook registration; hand it to PincerHost.unregister to withdraw it.
public struct Registration: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}
