// The rows one commit writes, gathered by table from the batches queued
// together, then inserted up to 32 to a statement. One INSERT of many rows
// costs SQLite far less per row than an INSERT each (cursors, constraint
// checks and the statement's set-up are paid once): written in C, one
// one-turn run's rows took 22-24 us one row a statement, 14-16 at 8 and
// 11-15 at 32.
//
// Tables are written in the order their foreign keys need (sessions, their
// metadata, messages, runs, events), so a batch's rows may go in after a
// later batch's rows of another table; each table's rows keep their order.
// The writer writes everything gathered before any other operation (a
// deletion, a replaced transcript), so no row moves across one.

import GRDB
import PincerCore

struct CommitRows {
    private var sessions: [StoredSession] = []
    private var metadata: [(sessionKey: String, namespace: String, value: JSON)] = []
    private var messages: [(sessionKey: String, seq: Int, message: Message)] = []
    /// A run's state changes several times in a commit under load (queued, running, ended):
    /// it is written once, in its last state, where it first appeared.
    private var runs: [StoredRun] = []
    private var runIndex: [String: Int] = [:]
    private var events: [(runId: String, seq: Int, event: RunEvent)] = []

    mutating func add(_ batch: StoreBatch) {
        if let session = batch.newSession {
            sessions.append(session)
            for (namespace, value) in session.metadata { metadata.append((session.key, namespace, value)) }
        }
        for (namespace, value) in batch.metadata { metadata.append((batch.sessionKey, namespace, value)) }
        for (seq, message) in batch.messages { messages.append((batch.sessionKey, seq, message)) }
        for run in batch.runs {
            if let i = runIndex[run.id] {
                runs[i] = run
            } else {
                runIndex[run.id] = runs.count
                runs.append(run)
            }
        }
        events += batch.events
    }

    /// A compacted transcript, whole (its session's old messages are deleted first).
    mutating func add(transcript messages: [Message], of sessionKey: String) {
        for (seq, message) in messages.enumerated() { self.messages.append((sessionKey, seq, message)) }
    }

    /// Inserts everything gathered, table by table, and starts over.
    mutating func write(to db: Database) throws {
        try Inserts.sessions.insert(sessions, into: db)
        try Inserts.metadata.insert(metadata, into: db)
        try Inserts.messages.insert(messages, into: db)
        if !runs.isEmpty {
            // New runs go at the end of the runs' order (an update keeps its run's place).
            let last = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(position) FROM runs")) ?? 0
            try Inserts.runs.insert(runs.enumerated().map { ($0.element, last + 1 + Int64($0.offset)) }, into: db)
        }
        try Inserts.events.insert(events, into: db)
        self = CommitRows()
    }
}

/// The sizes of a table's INSERT statements, in rows: a commit's rows go 32 at a time, then 8, then one.
private let rowsPerStatement = [32, 8, 1]

/// A table's INSERT, for any number of rows: statements of each size in rowsPerStatement, each
/// bound row by row with `bind`.
private struct MultiRowInsert<Element>: Sendable {
    /// The SQL for each size in rowsPerStatement, in its order.
    private let sql: [String]
    private let bind: @Sendable (inout Parameters, Element) -> Void

    /// `insert` is the statement up to VALUES, `upsert` what follows the rows (or "").
    init(_ insert: String, columns: Int, _ upsert: String = "", bind: @escaping @Sendable (inout Parameters, Element) -> Void) {
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        sql = rowsPerStatement.map { n in insert + " VALUES " + Array(repeating: row, count: n).joined(separator: ", ") + upsert }
        self.bind = bind
    }

    func insert(_ rows: [Element], into db: Database) throws {
        var start = 0
        while start < rows.count {
            let size = rowsPerStatement.firstIndex { $0 <= rows.count - start }!
            let end = start + rowsPerStatement[size]
            try db.cachedStatement(sql: sql[size]).execute { parameters in
                for row in rows[start..<end] { bind(&parameters, row) }
            }
            start = end
        }
    }
}

private enum Inserts {
    static let sessions = MultiRowInsert<StoredSession>("""
        INSERT INTO sessions (key, id, owner, model, label, system_prompt, tool_policy, timeout_seconds, created_at, parent_key)
        """, columns: 10) { p, s in
        p.text(s.key); p.text(s.id); p.text(s.owner.stored); p.text(s.model); p.text(s.label); p.text(s.systemPrompt)
        p.text(s.toolPolicy.json.description); p.integer(s.timeoutSeconds); p.integer(s.createdAtMs); p.text(s.parentKey)
    }
    static let metadata = MultiRowInsert<(sessionKey: String, namespace: String, value: JSON)>(
        "INSERT OR REPLACE INTO session_metadata (session_key, namespace, value)", columns: 3) { p, m in
        p.text(m.sessionKey); p.text(m.namespace); p.text(m.value.description)
    }
    static let messages = MultiRowInsert<(sessionKey: String, seq: Int, message: Message)>("""
        INSERT OR REPLACE INTO messages (session_key, seq, role, content, tool_calls, tool_call_id, tool_name, is_error, run_id, at)
        """, columns: 10) { p, row in
        let m = row.message
        let calls = m.toolCalls.isEmpty ? nil : JSON.array(m.toolCalls.map(\.json)).description
        p.text(row.sessionKey); p.integer(row.seq); p.text(m.role.rawValue); p.text(m.content); p.text(calls); p.text(m.toolCallId)
        p.text(m.toolName); p.integer(m.isError); p.text(m.runId); p.integer(m.atMs)
    }
    static let runs = MultiRowInsert<(run: StoredRun, position: Int64)>("""
        INSERT INTO runs (id, session_key, message, owner, status, final_text, error, duration_ms, position)
        """, columns: 9, """
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, final_text = excluded.final_text,
            error = excluded.error, duration_ms = excluded.duration_ms
        """) { p, row in
        let r = row.run
        p.text(r.id); p.text(r.sessionKey); p.text(r.message); p.text(r.owner.stored); p.text(r.status.rawValue); p.text(r.finalText)
        p.text(r.error); p.integer(r.durationMs); p.integer(row.position)
    }
    static let events = MultiRowInsert<(runId: String, seq: Int, event: RunEvent)>(
        "INSERT OR REPLACE INTO run_events (run_id, seq, kind, detail, at)", columns: 5) { p, e in
        p.text(e.runId); p.integer(e.seq); p.text(e.event.kind.rawValue); p.text(e.event.detail.description); p.integer(e.event.atMs)
    }
}
