// The embedded store: one SQLite file in WAL mode, through GRDB. Migrations
// are versioned; a file written by a newer Pincer (migrations this build does
// not know) or a file that is not a database is refused with an error naming
// the path, never opened half-way.
//
// synchronous = NORMAL: a commit is not fsynced. A killed process loses
// nothing it committed (the WAL is in the OS page cache); a power loss may
// lose the last commits, never corrupt the file. SQLite's usual WAL trade-off.
//
// Writes go through a group-commit writer (StoreWriter): the engine queues
// each boundary's write and one thread commits what is queued in one
// transaction. Runs the engine forgets (RunRetention) are deleted here too, a
// batch at a time, and opening deletes runs older than the newest runLimit: the
// file holds what an engine can read back.

import GRDB
import PincerCore
import Synchronization

public final class SQLiteStore: SessionStore, Sendable {
    public let path: String
    /// Read-only: for tools that look at a store a running host may own. Nothing is
    /// migrated or written, and in-flight runs are reported as stored, not marked.
    public let readOnly: Bool
    private let pool: DatabasePool
    /// Started by startWriting (the engine, once it has loaded); nil before and after close.
    private let writer = Mutex<StoreWriter?>(nil)
    /// Runs the engine forgot, not yet deleted: they go forgottenRunsPerDelete at a time, so the
    /// oldest pages join one commit's WAL frames in a while, not every commit's (deleting each
    /// commit's few cost about twice as much CPU per run, measured), and the rest at close.
    private let forgottenRuns = Mutex(ForgottenRuns())
    static let forgottenRunsPerDelete = 512

    private struct ForgottenRuns {
        var ids: [String] = []
        /// close() has begun: the last commit deletes them all.
        var closing = false

        /// The ids the commit deletes: all of them at close, else a batch once one is pending.
        var due: ArraySlice<String> {
            if closing { return ids[...] }
            return ids.count >= SQLiteStore.forgottenRunsPerDelete ? ids.prefix(SQLiteStore.forgottenRunsPerDelete) : []
        }
    }

    public init(path: String, readOnly: Bool = false) throws(EngineError) {
        self.path = path
        self.readOnly = readOnly
        do {
            var configuration = Configuration()
            configuration.foreignKeysEnabled = true
            configuration.busyMode = .timeout(5)
            configuration.readonly = readOnly
            configuration.prepareDatabase { db in
                if !db.configuration.readonly { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            let migrator = SQLiteStore.migrator
            let superseded = try pool.read { db in try migrator.hasBeenSuperseded(db) }
            if superseded {
                throw EngineError(.internalFailure, "the store at \(path) was written by a newer Pincer: its schema has migrations this version does not know (\(SQLiteStore.schemaVersions.joined(separator: ", ")) known); refusing to open it")
            }
            if readOnly {
                let applied = try pool.read { db in try migrator.hasCompletedMigrations(db) }
                if !applied { throw EngineError(.internalFailure, "the store at \(path) has no Pincer schema (or an older one); open it once with a host to migrate it") }
            } else {
                try migrator.migrate(pool)
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.internalFailure, "cannot open the store at \(path): \(SQLiteStore.describe(error))")
        }
    }

    static let schemaVersions = ["v1", "v2", "v3", "v4"]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE sessions (
                    key TEXT PRIMARY KEY NOT NULL, id TEXT NOT NULL, owner TEXT NOT NULL, model TEXT NOT NULL,
                    label TEXT, system_prompt TEXT, tool_policy TEXT NOT NULL, timeout_seconds INTEGER NOT NULL,
                    created_at INTEGER NOT NULL);
                CREATE TABLE session_metadata (
                    session_key TEXT NOT NULL REFERENCES sessions(key) ON DELETE CASCADE,
                    namespace TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (session_key, namespace));
                CREATE TABLE messages (
                    session_key TEXT NOT NULL REFERENCES sessions(key) ON DELETE CASCADE, seq INTEGER NOT NULL,
                    role TEXT NOT NULL, content TEXT NOT NULL, tool_calls TEXT, tool_call_id TEXT, tool_name TEXT,
                    is_error INTEGER NOT NULL, run_id TEXT, at INTEGER NOT NULL, PRIMARY KEY (session_key, seq));
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY NOT NULL, session_key TEXT NOT NULL REFERENCES sessions(key) ON DELETE CASCADE,
                    message TEXT NOT NULL, owner TEXT NOT NULL, status TEXT NOT NULL, final_text TEXT, error TEXT,
                    duration_ms INTEGER NOT NULL, position INTEGER NOT NULL);
                CREATE INDEX runs_by_position ON runs(position);
                """)
        }
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE run_events (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
                    kind TEXT NOT NULL, detail TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (run_id, seq));
                """)
        }
        migrator.registerMigration("v3") { db in
            // The session that spawned this one (sessions_spawn), if any.
            try db.execute(sql: "ALTER TABLE sessions ADD COLUMN parent_key TEXT")
        }
        migrator.registerMigration("v4") { db in
            // Deleting a session deletes its runs (ON DELETE CASCADE), found by session_key:
            // without an index each deletion read every run ever stored (20 ms at 200,000 runs,
            // measured, on the writer's thread, holding up every commit behind it).
            try db.execute(sql: "CREATE INDEX runs_by_session ON runs(session_key)")
        }
        return migrator
    }

    public func load(runLimit: Int) throws(EngineError) -> StoredState {
        try run("load") {
            try (readOnly ? pool.read : pool.write) { db -> StoredState in
                var interrupted = 0
                if !readOnly {
                    try db.execute(sql: "UPDATE runs SET status = ?, error = ? WHERE status IN (?, ?)",
                                   arguments: [RunStatus.interrupted.rawValue, "the host stopped while it ran",
                                               RunStatus.queued.rawValue, RunStatus.running.rawValue])
                    interrupted = db.changesCount
                }
                var sessions: [String: StoredSession] = [:]
                var order: [String] = []
                for row in try Row.fetchAll(db, sql: "SELECT * FROM sessions ORDER BY created_at, key") {
                    let key: String = row["key"]
                    order.append(key)
                    sessions[key] = StoredSession(
                        key: key, id: row["id"], owner: Caller(stored: row["owner"]), model: row["model"], label: row["label"],
                        systemPrompt: row["system_prompt"], toolPolicy: try SQLiteStore.policy(row["tool_policy"]),
                        timeoutSeconds: row["timeout_seconds"], createdAtMs: UInt64(row["created_at"] as Int64), metadata: [:],
                        parentKey: row["parent_key"])
                }
                for row in try Row.fetchAll(db, sql: "SELECT * FROM session_metadata") {
                    sessions[row["session_key"]]?.metadata[row["namespace"]] = try JSON.parse(row["value"] as String)
                }
                for row in try Row.fetchAll(db, sql: "SELECT * FROM messages ORDER BY session_key, seq") {
                    sessions[row["session_key"]]?.transcript.append(try SQLiteStore.message(row))
                }
                var events: [String: [RunEvent]] = [:]
                for row in try Row.fetchAll(db, sql: """
                    SELECT e.* FROM run_events e JOIN (SELECT id FROM runs ORDER BY position DESC LIMIT ?) r ON e.run_id = r.id
                    ORDER BY e.run_id, e.seq
                    """, arguments: [runLimit]) {
                    let kind = RunEvent.Kind(rawValue: row["kind"]) ?? .turn
                    events[row["run_id"], default: []].append(RunEvent(kind, try JSON.parse(row["detail"] as String), atMs: UInt64(row["at"] as Int64)))
                }
                let runRows = try Row.fetchAll(db, sql: "SELECT * FROM (SELECT * FROM runs ORDER BY position DESC LIMIT ?) ORDER BY position",
                                               arguments: [runLimit])
                let runs = runRows.map { row in
                    StoredRun(id: row["id"], sessionKey: row["session_key"], message: row["message"], owner: Caller(stored: row["owner"]),
                              status: RunStatus(rawValue: row["status"]) ?? .interrupted, finalText: row["final_text"], error: row["error"],
                              durationMs: UInt64(row["duration_ms"] as Int64), events: events[row["id"]] ?? [])
                }
                // Runs older than those read back no engine will see again (a store written with a
                // larger retainedRuns, or before forgotten runs were deleted): they go now.
                if !readOnly, runs.count == runLimit, let oldestKept: Int64 = runRows.first?["position"] {
                    try db.execute(sql: "DELETE FROM runs WHERE position < ?", arguments: [oldestKept])
                }
                return StoredState(sessions: order.compactMap { sessions[$0] }, runs: runs, interrupted: interrupted)
            }
        }
    }

    public func startWriting(committed: @escaping @Sendable (UInt64) -> Void, log: @escaping @Sendable (String) -> Void) {
        let started = StoreWriter(apply: { [self] operations throws(EngineError) in try apply(operations) }, committed: committed, log: log)
        writer.withLock { $0 = started }
    }

    @discardableResult
    public func enqueue(_ operation: StoreOperation) -> UInt64 {
        guard let writer = writer.withLock({ $0 }) else {
            preconditionFailure("SQLiteStore \(path): a write was queued before startWriting or after close")
        }
        return writer.enqueue(operation)
    }

    public func waitUntilCommitted(_ ticket: UInt64) {
        writer.withLock { $0 }?.waitUntilCommitted(ticket)
    }

    public func close() {
        guard let closing = writer.withLock({ writer -> StoreWriter? in
            defer { writer = nil }
            return writer
        }) else { return }
        // One last commit takes the forgotten runs still pending.
        forgottenRuns.withLock { $0.closing = true }
        closing.enqueue(.forgetRuns([]))
        closing.close()
    }

    /// Applies the operations in one transaction, with the effect of applying them in order (on
    /// the writer's thread; CommitRows groups the rows between other operations by table).
    func apply(_ operations: [StoreOperation]) throws(EngineError) {
        // Kept whatever becomes of this commit: a failed one leaves them to the next.
        let forgotten = operations.flatMap { operation -> [String] in
            if case .forgetRuns(let ids) = operation { return ids } else { return [] }
        }
        if !forgotten.isEmpty { forgottenRuns.withLock { $0.ids += forgotten } }
        var deletedForgotten = 0
        try run("write") {
            try pool.write { db in
                var rows = CommitRows()
                for operation in operations {
                    switch operation {
                    case .batch(let batch):
                        rows.add(batch)
                    case .deleteSession(let key):
                        try rows.write(to: db)
                        try db.execute(sql: "DELETE FROM sessions WHERE key = ?", arguments: [key])
                    case .replaceTranscript(let key, let messages):
                        try rows.write(to: db)
                        try db.execute(sql: "DELETE FROM messages WHERE session_key = ?", arguments: [key])
                        rows.add(transcript: messages, of: key)
                    case .forgetRuns:
                        break
                    }
                }
                try rows.write(to: db)
                // Forgotten runs have had their last write (in this commit at the latest).
                let due = forgottenRuns.withLock { $0.due }
                if !due.isEmpty {
                    // Their events go by ON DELETE CASCADE.
                    let delete = try db.cachedStatement(sql: "DELETE FROM runs WHERE id = ?")
                    for id in due { try delete.execute(binding: { $0.text(id) }) }
                    deletedForgotten = due.count
                }
            }
        }
        // Only once committed: a failed commit leaves them to the next.
        if deletedForgotten > 0 { forgottenRuns.withLock { $0.ids.removeFirst(deletedForgotten) } }
    }

    /// Runs a store operation, turning any failure into an error that names the store.
    private func run<T>(_ what: String, _ body: () throws -> T) throws(EngineError) -> T {
        do { return try body() } catch {
            throw EngineError(.internalFailure, "store \(path): \(what) failed: \(SQLiteStore.describe(error))")
        }
    }

    private static func describe(_ error: Error) -> String {
        if let db = error as? DatabaseError { return db.message ?? "\(db.resultCode)" }
        return "\(error)"
    }

    private static func policy(_ text: String) throws -> ToolPolicy { ToolPolicy(json: try JSON.parse(text)) }

    private static func message(_ row: Row) throws -> Message {
        var m = Message(role: Message.Role(rawValue: row["role"]) ?? .system, content: row["content"], runId: row["run_id"])
        if let calls: String = row["tool_calls"] {
            m.toolCalls = try JSON.parse(calls).arrayValue?.map {
                ToolCall(id: $0["id"]?.stringValue ?? "", name: $0["name"]?.stringValue ?? "", arguments: $0["arguments"] ?? [:])
            } ?? []
        }
        m.toolCallId = row["tool_call_id"]
        m.toolName = row["tool_name"]
        m.isError = row["is_error"]
        m.atMs = UInt64(row["at"] as Int64)
        return m
    }
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
