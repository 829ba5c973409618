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
// transaction.

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

    static let schemaVersions = ["v1", "v2", "v3"]

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
                let runs = try Row.fetchAll(db, sql: "SELECT * FROM (SELECT * FROM runs ORDER BY position DESC LIMIT ?) ORDER BY position",
                                            arguments: [runLimit]).map { row in
                    StoredRun(id: row["id"], sessionKey: row["session_key"], message: row["message"], owner: Caller(stored: row["owner"]),
                              status: RunStatus(rawValue: row["status"]) ?? .interrupted, finalText: row["final_text"], error: row["error"],
                              durationMs: UInt64(row["duration_ms"] as Int64), events: events[row["id"]] ?? [])
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
        writer.withLock { writer -> StoreWriter? in
            defer { writer = nil }
            return writer
        }?.close()
    }

    /// Applies the operations in order, in one transaction (on the writer's thread).
    func apply(_ operations: [StoreOperation]) throws(EngineError) {
        try run("write") {
            try pool.write { db in
                let statements = try WriteStatements(db)
                var runs: LatestRunStates? = nil // of the batches from here to the next other operation
                for (i, operation) in operations.enumerated() {
                    switch operation {
                    case .batch(let batch):
                        if runs == nil { runs = LatestRunStates(operations[i...]) }
                        try statements.write(batch, runs: &runs!)
                    case .deleteSession(let key):
                        runs = nil
                        try db.execute(sql: "DELETE FROM sessions WHERE key = ?", arguments: [key])
                    case .replaceTranscript(let key, let messages):
                        runs = nil
                        try db.execute(sql: "DELETE FROM messages WHERE session_key = ?", arguments: [key])
                        var batch = StoreBatch(sessionKey: key)
                        batch.messages = messages.enumerated().map { ($0.offset, $0.element) }
                        var none = LatestRunStates()
                        try statements.write(batch, runs: &none)
                    }
                }
            }
        }
    }

    /// A run's state changes several times in a commit under load (queued, running, ended):
    /// it is written once, in its last state, where it first appears (before its events,
    /// which refer to it). Taken over the batches up to the next other operation, so no
    /// write moves across a deletion.
    private struct LatestRunStates {
        private var latest: [String: StoredRun] = [:]
        private var written: Set<String> = []

        init() {}

        /// The last state of each run in the batches that open `operations`.
        init(_ operations: ArraySlice<StoreOperation>) {
            for operation in operations {
                guard case .batch(let batch) = operation else { break }
                for run in batch.runs { latest[run.id] = run }
            }
        }

        /// The state to write for `run`, or nil when it was written already in this commit.
        mutating func take(_ run: StoredRun) -> StoredRun? {
            guard written.insert(run.id).inserted else { return nil }
            return latest[run.id] ?? run
        }
    }

    /// The statements a commit writes with, looked up once per commit (GRDB caches them by their
    /// SQL text, which is hashed at each lookup), bound through BoundStatement's Parameters.
    private struct WriteStatements {
        let insertSession, insertMetadata, upsertMetadata, insertMessage, upsertRun, insertEvent: Statement

        init(_ db: Database) throws {
            insertSession = try db.cachedStatement(sql: """
                INSERT INTO sessions (key, id, owner, model, label, system_prompt, tool_policy, timeout_seconds, created_at, parent_key)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            insertMetadata = try db.cachedStatement(sql: "INSERT INTO session_metadata (session_key, namespace, value) VALUES (?, ?, ?)")
            upsertMetadata = try db.cachedStatement(sql: "INSERT OR REPLACE INTO session_metadata (session_key, namespace, value) VALUES (?, ?, ?)")
            insertMessage = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO messages (session_key, seq, role, content, tool_calls, tool_call_id, tool_name, is_error, run_id, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            upsertRun = try db.cachedStatement(sql: """
                INSERT INTO runs (id, session_key, message, owner, status, final_text, error, duration_ms, position)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM runs))
                ON CONFLICT(id) DO UPDATE SET status = excluded.status, final_text = excluded.final_text,
                    error = excluded.error, duration_ms = excluded.duration_ms
                """)
            insertEvent = try db.cachedStatement(sql: "INSERT OR REPLACE INTO run_events (run_id, seq, kind, detail, at) VALUES (?, ?, ?, ?, ?)")
        }

        func write(_ batch: StoreBatch, runs: inout LatestRunStates) throws {
            if let s = batch.newSession {
                try insertSession.execute { p in
                    p.text(s.key); p.text(s.id); p.text(s.owner.stored); p.text(s.model); p.text(s.label); p.text(s.systemPrompt)
                    p.text(s.toolPolicy.json.description); p.integer(s.timeoutSeconds); p.integer(s.createdAtMs); p.text(s.parentKey)
                }
                for (namespace, value) in s.metadata {
                    try insertMetadata.execute { p in p.text(s.key); p.text(namespace); p.text(value.description) }
                }
            }
            for (namespace, value) in batch.metadata {
                try upsertMetadata.execute { p in p.text(batch.sessionKey); p.text(namespace); p.text(value.description) }
            }
            for (seq, m) in batch.messages {
                let calls = m.toolCalls.isEmpty ? nil : JSON.array(m.toolCalls.map {
                    ["id": .string($0.id), "name": .string($0.name), "arguments": $0.arguments]
                }).description
                try insertMessage.execute { p in
                    p.text(batch.sessionKey); p.integer(seq); p.text(m.role.rawValue); p.text(m.content); p.text(calls); p.text(m.toolCallId)
                    p.text(m.toolName); p.integer(m.isError); p.text(m.runId); p.integer(m.atMs)
                }
            }
            for r in batch.runs.compactMap({ runs.take($0) }) {
                try upsertRun.execute { p in
                    p.text(r.id); p.text(r.sessionKey); p.text(r.message); p.text(r.owner.stored); p.text(r.status.rawValue); p.text(r.finalText)
                    p.text(r.error); p.integer(r.durationMs)
                }
            }
            for (runId, seq, event) in batch.events {
                try insertEvent.execute { p in p.text(runId); p.integer(seq); p.text(event.kind.rawValue); p.text(event.detail.description); p.integer(event.atMs) }
            }
        }
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
