// What a hook is, seen from the engine: a point it attaches to, who
// registered it, its priority and deadline, and a handler the engine calls on
// that plugin's hook lane. The C adapter (PincerHost) builds the handler;
// the engine never sees a C type.

public enum HookPoint: Int32, CaseIterable, Sendable {
    case beforeSessionCreate = 0
    case sessionCreated = 1
    case beforeToolCall = 2
    case afterToolCall = 3
    case runEvent = 4

    public var name: String {
        switch self {
        case .beforeSessionCreate: return "before_session_create"
        case .sessionCreated: return "session_created"
        case .beforeToolCall: return "before_tool_call"
        case .afterToolCall: return "after_tool_call"
        case .runEvent: return "run_event"
        }
    }

    /// Gates decide (and the engine waits for them); the others only observe.
    public var isGate: Bool { self == .beforeSessionCreate || self == .beforeToolCall }
}

/// What one hook call is about.
public struct HookEvent: Sendable {
    public var point: HookPoint
    public var sessionKey: String
    public var sessionId: String
    public var runId: String
    public var owner: Caller
    public var workspaceDir: String
    public var toolName: String?
    public var toolCallId: String?
    public var payload: JSON
}

/// A gate's answer.
public enum HookReply: Sendable, Equatable {
    case proceed(patch: JSON?)
    case block(reason: String)
}

public struct Hook: Sendable {
    public var plugin: String
    public var point: HookPoint
    public var priority: Int32
    public var deadlineMs: UInt32
    /// Whether the plugin may see every session, not only those it created.
    public var seesAllSessions: Bool
    /// Runs on the plugin's hook lane. A thrown error is the hook failing.
    public var handler: @Sendable (HookEvent) throws -> HookReply

    public init(plugin: String, point: HookPoint, priority: Int32, deadlineMs: UInt32, seesAllSessions: Bool,
                handler: @escaping @Sendable (HookEvent) throws -> HookReply)
    {
        self.plugin = plugin
        self.point = point
        self.priority = priority
        self.deadlineMs = deadlineMs
        self.seesAllSessions = seesAllSessions
        self.handler = handler
    }

    func sees(_ owner: Caller) -> Bool { seesAllSessions || owner == .plugin(plugin) }
}

/// Why a hook failed; a gate that fails blocks with this text.
public struct HookFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The bounds on hook lanes (hooks.h; LimitsTests holds them equal to the header's macros).
public enum HookLimits {
    /// Gate calls waiting for a plugin's gate lane (PINCER_HOOK_MAX_PENDING_GATES).
    public static let maxPendingGates = 64
    /// Nested gates on one thread (PINCER_HOOK_MAX_NESTING).
    public static let maxNesting = 4
    /// Events an observer lane holds (PINCER_HOOK_MAX_QUEUED_EVENTS).
    public static let maxQueuedEvents = 8192
    /// Payload bytes an observer lane holds (PINCER_HOOK_MAX_QUEUED_EVENT_BYTES).
    public static let maxQueuedBytes = 64 << 20
}
