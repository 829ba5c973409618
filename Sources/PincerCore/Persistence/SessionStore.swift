// Where sessions, transcripts, runs and metadata outlive the process, as the
// engine sees it: this protocol and the records it carries are the engine's;
// a store module (PincerStore: SQLite through GRDB) implements them, and
// whoever builds the engine picks one (or none: sessions in memory only).
//
// The engine writes at the natural boundaries of a run (session created, run
// queued, run started, each model turn, run ended, session deleted) and reads
// everything back when it starts. Runs a previous process left queued or
// running are marked interrupted on load: never silently lost.

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

    public init(newSession: StoredSession? = nil, sessionKey: String) {
        self.newSession = newSession
        self.sessionKey = sessionKey
    }
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

    /// When the session last had a message (else when it was made): what orders restored
    /// sessions' activity.
    var lastMessageMs: UInt64 { transcript.last?.atMs ?? createdAtMs }

    public init(key: String, id: String, owner: Caller, model: String, label: String?, systemPrompt: String?, toolPolicy: ToolPolicy,
                timeoutSeconds: Int, createdAtMs: UInt64, metadata: [String: JSON], parentKey: String?)
    {
        self.key = key
        self.id = id
        self.owner = owner
        self.model = model
        self.label = label
        self.systemPrompt = systemPrompt
        self.toolPolicy = toolPolicy
        self.timeoutSeconds = timeoutSeconds
        self.createdAtMs = createdAtMs
        self.metadata = metadata
        self.parentKey = parentKey
    }
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

    public init(id: String, sessionKey: String, message: String, owner: Caller, status: RunStatus, finalText: String?, error: String?,
                durationMs: UInt64, events: [RunEvent] = [])
    {
        self.id = id
        self.sessionKey = sessionKey
        self.message = message
        self.owner = owner
        self.status = status
        self.finalText = finalText
        self.error = error
        self.durationMs = durationMs
        self.events = events
    }
}

public struct StoredState: Sendable {
    public var sessions: [StoredSession]
    /// Most recent last.
    public var runs: [StoredRun]
    /// Runs found queued or running at open, now marked interrupted.
    public var interrupted: Int

    public init(sessions: [StoredSession], runs: [StoredRun], interrupted: Int) {
        self.sessions = sessions
        self.runs = runs
        self.interrupted = interrupted
    }
}

/// One write the engine hands its store.
public enum StoreOperation: Sendable {
    case batch(StoreBatch)
    case deleteSession(String)
    /// A compacted transcript replaces the stored one.
    case replaceTranscript(sessionKey: String, messages: [Message])
    /// Runs the engine no longer remembers (RunRetention: past retainedRuns or retainedRunBytes):
    /// the store deletes them with their events, so it holds what the engine can read back.
    case forgetRuns([String])
}

public protocol SessionStore: Sendable {
    /// Everything stored, after marking in-flight runs interrupted: every session and the newest
    /// `runLimit` runs (older runs are deleted, unless the store is read-only). Called once, when
    /// the engine starts.
    func load(runLimit: Int) throws(EngineError) -> StoredState
    /// Opened only to look: load changes nothing, and the engine makes no writes of its own (it
    /// retires no sessions).
    var readOnly: Bool { get }
    /// Called once, after load: from now on the store takes writes. Each commit's duration goes
    /// to `committed` (nanoseconds: the engine's store commit latency); a write that fails is
    /// reported to `log` as one line naming the store (the engine's run has already moved on).
    func startWriting(committed: @escaping @Sendable (UInt64) -> Void, log: @escaping @Sendable (String) -> Void)
    /// Queues a write and returns its ticket; cheap, so the engine calls it under its lock.
    /// Writes are applied in the order they were queued.
    @discardableResult
    func enqueue(_ operation: StoreOperation) -> UInt64
    /// Blocks until every write up to `ticket` is committed (or failed and was reported).
    func waitUntilCommitted(_ ticket: UInt64)
    /// Commits what is queued, then takes no more writes.
    func close()
}

extension SessionStore {
    public var readOnly: Bool { false }
}
