// Where sessions, transcripts, runs and metadata outlive the process. The
// engine writes through a store at the natural boundaries of a run (session
// created, run queued, run started, each model turn, run ended, session
// deleted), each boundary one transaction, and reads everything back when it
// starts. Runs a previous process left queued or running are marked
// interrupted on open: never silently lost.

/// One write: what changed at a boundary, applied in one transaction.
public struct StoreBatch: Sendable {
    /// A new session to insert (with its metadata), or nil.
    public var newSession: StoredSession?
    public var sessionKey: String
    /// Messages appended since the last write, with their positions in the transcript.
    public var messages: [(seq: Int, message: Message)] = []
    /// Runs whose state changed (inserted or replaced).
    public var runs: [StoredRun] = []
    /// Metadata namespaces replaced on an existing session.
    public var metadata: [String: JSON] = [:]
    /// Run events recorded since the last write, with their positions in each run.
    public var events: [(runId: String, seq: Int, event: RunEvent)] = []
}

public struct StoredSession: Sendable {
    public var key: String
    public var id: String
    public var owner: Caller
    public var model: String
    public var label: String?
    public var systemPrompt: String?
    public var toolPolicy: ToolPolicy
    public var timeoutSeconds: Int
    public var createdAtMs: UInt64
    public var metadata: [String: JSON]
    /// The session that spawned this one through sessions_spawn.
    public var parentKey: String?
    /// Filled when loading.
    public var transcript: [Message] = []
}

public struct StoredRun: Sendable {
    public var id: String
    public var sessionKey: String
    public var message: String
    public var owner: Caller
    public var status: RunStatus
    public var finalText: String?
    public var error: String?
    public var durationMs: UInt64
    /// Filled when loading.
    public var events: [RunEvent] = []
}

public struct StoredState: Sendable {
    public var sessions: [StoredSession]
    /// Most recent last.
    public var runs: [StoredRun]
    /// Runs found queued or running at open, now marked interrupted.
    public var interrupted: Int
}

public protocol SessionStore: Sendable {
    /// Everything stored, after marking in-flight runs interrupted. Called once, at engine start.
    func load(runLimit: Int) throws(EngineError) -> StoredState
    /// Applies the operations in order, in one transaction.
    func apply(_ operations: [StoreWriter.Operation]) throws(EngineError)
}

extension Caller {
    /// "plugin:<id>" or "operator", as stored.
    var stored: String {
        switch self {
        case .plugin(let id): return "plugin:\(id)"
        case .operator: return "operator"
        }
    }

    init(stored: String) {
        self = stored.hasPrefix("plugin:") ? .plugin(String(stored.dropFirst(7))) : .operator
    }
}
