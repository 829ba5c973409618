// A session: a conversation with a model, addressed by its canonical key.
// Mutable state lives here and is only touched under the engine's lock.

public enum SessionState: String, Sendable {
    case idle, streaming, compacting
}

/// Who asked for something: a plugin (by the id the host attributed the call
/// to, never one the plugin claims) or the operator (CLI, gateway).
public enum Caller: Equatable, Hashable, Sendable {
    case plugin(String)
    case `operator`

    var label: String {
        switch self {
        case .plugin(let id): return "plugin \(id)"
        case .operator: return "operator"
        }
    }
}

/// What a new session starts with.
public struct SessionSpec: Sendable {
    public var message: String
    public var systemPrompt: String?
    public var toolPolicy: ToolPolicy
    public var model: String?
    public var timeoutSeconds: Int?
    public var label: String?
    /// Initial metadata by namespace (a plugin id, or "operator"): each value a JSON object.
    /// The creator may seed any loaded plugin's namespace, its own included.
    public var metadata: [String: JSON]
    /// Set by the engine for a session spawned by another session's sessions_spawn call.
    var parentKey: String?

    public init(message: String, systemPrompt: String? = nil, toolPolicy: ToolPolicy = ToolPolicy(),
                model: String? = nil, timeoutSeconds: Int? = nil, label: String? = nil, metadata: [String: JSON] = [:])
    {
        self.message = message
        self.systemPrompt = systemPrompt
        self.toolPolicy = toolPolicy
        self.model = model
        self.timeoutSeconds = timeoutSeconds
        self.label = label
        self.metadata = metadata
    }
}

// @unchecked: every mutable field is read and written under the engine's lock.
final class Session: @unchecked Sendable {
    let key: String
    let id: String
    let owner: Caller
    let systemPrompt: String?
    let model: String
    let label: String?
    let toolPolicy: ToolPolicy
    let timeoutSeconds: Int
    let createdAtMs: UInt64
    /// The session whose sessions_spawn call created this one.
    let parentKey: String?
    /// Metadata by namespace (a plugin id, or "operator").
    var metadata: [String: JSON] = [:]
    var transcript: [Message] = []
    var state: SessionState = .idle
    /// Runs not yet ended, oldest first; the first one is the one at work.
    var queue: [Run] = []
    var runCount = 0
    var workerActive = false
    /// How many transcript messages the store already holds.
    var persistedCount = 0
    /// Its place in the engine's order of activity (SessionRetention); -1 when it has none.
    var activitySlot = -1

    init(key: String, id: String, owner: Caller, spec: SessionSpec, model: String, timeoutSeconds: Int) {
        self.key = key
        self.id = id
        self.owner = owner
        self.systemPrompt = spec.systemPrompt
        self.model = model
        self.label = spec.label
        self.toolPolicy = spec.toolPolicy
        self.timeoutSeconds = timeoutSeconds
        self.createdAtMs = WallClock.milliseconds()
        parentKey = spec.parentKey
    }

    /// A session read back from the store.
    init(restoring s: StoredSession) {
        key = s.key
        id = s.id
        owner = s.owner
        systemPrompt = s.systemPrompt
        model = s.model
        label = s.label
        toolPolicy = s.toolPolicy
        timeoutSeconds = s.timeoutSeconds
        createdAtMs = s.createdAtMs
        parentKey = s.parentKey
        metadata = s.metadata
        transcript = s.transcript
        persistedCount = s.transcript.count
        runCount = Set(s.transcript.compactMap(\.runId)).count
    }

    var stored: StoredSession {
        StoredSession(key: key, id: id, owner: owner, model: model, label: label, systemPrompt: systemPrompt,
                      toolPolicy: toolPolicy, timeoutSeconds: timeoutSeconds, createdAtMs: createdAtMs, metadata: metadata,
                      parentKey: parentKey)
    }

    var activeRun: Run? { queue.first }

    /// Spawned by a plugin or by another session (not started by the operator): such a
    /// session may use the session tools only when its own allow list names them.
    var isSpawned: Bool { owner != .operator || parentKey != nil }
}
