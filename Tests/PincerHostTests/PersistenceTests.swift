// Sessions outlive the process: a host killed with SIGKILL mid-run leaves a
// store whose transcript is intact, and the next host marks the run
// interrupted. A store that cannot be opened, or that a newer Pincer wrote,
// is refused with an error naming it.

import Foundation
import GRDB
import GRDBSQLite
import PincerCore
@testable import PincerHost
@testable import PincerStore
import Testing

@Suite struct PersistenceTests {
    private var pincer: String { Repo.path(".build/debug/pincer") }

    /// An engine on the local model without token delays, storing in `dir`/s.sqlite.
    static func engine(storingIn dir: String, _ configure: (inout EngineConfig) -> Void) throws -> Engine {
        var config = EngineConfig()
        config.tokenDelayMs = 0
        configure(&config)
        return try Engine(config: config, store: try SQLiteStore(path: "\(dir)/s.sqlite"))
    }

    /// Session s`i`, new, with one message, its run r`i` in `status` and one event: one commit's batch.
    static func oneRunSession(_ i: Int, _ status: RunStatus) -> StoreOperation {
        let key = "s\(i)"
        var batch = StoreBatch(newSession: StoredSession(key: key, id: key, owner: .operator, model: "local/instant", label: nil,
                                                        systemPrompt: nil, toolPolicy: ToolPolicy(), timeoutSeconds: 60, createdAtMs: 1,
                                                        metadata: [:], parentKey: nil), sessionKey: key)
        batch.messages = [(0, Message(role: .user, content: "hi"))]
        batch.runs = [StoredRun(id: "r\(i)", sessionKey: key, message: "hi", owner: .operator, status: status, finalText: nil,
                                error: nil, durationMs: 1)]
        batch.events = [(runId: "r\(i)", seq: 0, event: RunEvent(.turn, ["text": "t"]))]
        return .batch(batch)
    }

    /// A connection of the test's own to a store file, waiting out a lock the store holds for a moment.
    static func outside(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    @Test func aRunKilledMidFlightIsMarkedInterruptedAndTheTranscriptSurvives() throws {
        let t = try TestHost()
        defer { t.close() }
        let store = "\(t.directory)/store.sqlite"
        let plugins = "\(t.directory)/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        let pid = try startProcess(pincer, ["run", "--plugins", plugins, "--store", store, "first @echo{\"text\":\"kept\"} then @sleep{\"ms\":10000}"],
                                   output: "\(t.directory)/first")
        // Wait until the store holds the pending sleep call: the run is mid-flight.
        var key = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let list = try? runCommand(pincer, ["sessions", "list", "--store", store]),
               let line = list.split(separator: "\n").dropFirst().first
            {
                key = String(line.split(separator: " ")[0])
                if let shown = try? runCommand(pincer, ["sessions", "show", "--store", store, key]), shown.contains("→ sleep") { break }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(!key.isEmpty, "the first host never wrote its session")
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(status & 0x7f == SIGKILL)

        // A read-only look does not touch the runs of a host that may still own the store.
        #expect(try runCommand(pincer, ["sessions", "show", "--store", store, key]).contains("running"))

        // The next host marks the run interrupted, and keeps everything that was written.
        let second = try runCommand(pincer, ["run", "--plugins", plugins, "--store", store, "second"])
        #expect(second.contains("completed"))
        let shown = try runCommand(pincer, ["sessions", "show", "--store", store, key])
        for line in ["user       first @echo{\"text\":\"kept\"} then @sleep{\"ms\":10000}",
                     "tool       echo: kept", "assistant  Calling sleep.  → sleep {\"ms\":10000}",
                     "interrupted: the host stopped while it ran", "    tool_call sleep {\"ms\":10000}", "    tool_result echo: kept"] {
            #expect(shown.contains(line), "missing \(line) in\n\(shown)")
        }
        let list = try runCommand(pincer, ["sessions", "list", "--store", store])
        #expect(list.split(separator: "\n").count == 3, "\(list)")
    }

    @Test func sessionsRunsAndMetadataComeBackInANewEngine() throws {
        let dir = try Fixtures.scratchDirectory("store")
        var config = EngineConfig()
        config.tokenDelayMs = 0
        let first = try Engine(config: config, store: try SQLiteStore(path: "\(dir)/s.sqlite"))
        let spec = SessionSpec(message: "hello @echo{\"text\":\"a\"}", systemPrompt: "be kind",
                               toolPolicy: ToolPolicy(allow: ["echo"], deny: ["clock"]), label: "kept",
                               metadata: ["p1": ["ticket": 7]])
        let started = try first.spawn(spec, by: .plugin("p1"))
        let run = try first.wait(runId: started.runId, timeoutMs: 5000, by: .operator)
        let followUp = try first.prompt(sessionKey: started.sessionKey, text: "again", by: .plugin("p1"))
        _ = try first.wait(runId: followUp, timeoutMs: 5000, by: .operator)
        try first.setMetadata(sessionKey: started.sessionKey, ["ticket": 8, "note": "updated"], by: .plugin("p1"))
        try first.setMetadata(sessionKey: started.sessionKey, ["mine": true], by: .operator)
        let transcript = try first.transcript(sessionKey: started.sessionKey, by: .operator)
        first.shutdown()

        let second = try Engine(config: config, store: try SQLiteStore(path: "\(dir)/s.sqlite"))
        defer { second.shutdown() }
        #expect(second.interruptedAtStart == 0)
        #expect(try second.transcript(sessionKey: started.sessionKey, by: .operator) == transcript)
        #expect(try second.wait(runId: started.runId, timeoutMs: 0, by: .operator) == run)
        let json = try second.sessionJSON(sessionKey: started.sessionKey, for: .plugin("p1"))
        for part in ["\"label\":\"kept\"", "\"systemPrompt\":\"be kind\"", "\"allow\":[\"echo\"],\"deny\":[\"clock\"]",
                     "\"metadata\":{\"ticket\":8,\"note\":\"updated\"}", "\"owner\":\"plugin p1\"", "\"total\":2"] {
            #expect(json.contains(part), "\(part) missing in \(json)")
        }
        #expect(try second.metadata(sessionKey: started.sessionKey, by: .operator) == ["mine": true])
        // The run's events come back too, in order.
        let events = try second.events(ofRun: started.runId, by: .operator)
        #expect(events.map(\.kind) == [.turn, .toolCall, .toolResult, .turn, .finished], "\(events.map(\.summary))")
        #expect(events[1].summary == "tool_call echo {\"text\":\"a\"}")
        #expect(events[2].summary == "tool_result echo: a")
        #expect(events[4].summary.hasPrefix("finished completed"))
        // The restored session takes new work, and a deletion reaches the store.
        let third = try second.prompt(sessionKey: started.sessionKey, text: "after restart", by: .operator)
        #expect(try second.wait(runId: third, timeoutMs: 5000, by: .operator).status == .completed)
        try second.deleteSession(started.sessionKey, by: .operator)
        let reopened = try Engine(config: config, store: try SQLiteStore(path: "\(dir)/s.sqlite"))
        defer { reopened.shutdown() }
        #expect(reopened.sessionSummaries.isEmpty)
    }

    /// Under load one commit holds several states of a run (queued, running, ended): it is written
    /// once, in its last state, before its events; a deletion between batches starts over, so a
    /// run written before it and again after it is written on both sides.
    @Test func aCommitWritesEachRunOnceInItsLastStateBeforeItsEvents() throws {
        let dir = try Fixtures.scratchDirectory("store")
        let store = try SQLiteStore(path: "\(dir)/s.sqlite")
        // Count every write of a run row, from outside the store.
        let counter = try DatabaseQueue(path: "\(dir)/s.sqlite")
        try counter.write { db in
            try db.execute(sql: """
                CREATE TABLE run_writes (n INTEGER NOT NULL); INSERT INTO run_writes VALUES (0);
                CREATE TRIGGER count_run_inserts AFTER INSERT ON runs BEGIN UPDATE run_writes SET n = n + 1; END;
                CREATE TRIGGER count_run_updates AFTER UPDATE ON runs BEGIN UPDATE run_writes SET n = n + 1; END;
                """)
        }
        func session(_ key: String) -> StoredSession {
            StoredSession(key: key, id: key, owner: .operator, model: "local/instant", label: nil, systemPrompt: nil,
                          toolPolicy: ToolPolicy(), timeoutSeconds: 60, createdAtMs: 1, metadata: [:], parentKey: nil)
        }
        func run(_ id: String, _ key: String, _ status: RunStatus, _ text: String? = nil) -> StoredRun {
            StoredRun(id: id, sessionKey: key, message: "hi", owner: .operator, status: status, finalText: text, error: nil, durationMs: 5)
        }
        func batch(_ key: String, new: Bool = false, runs: [StoredRun] = [], events: [(String, Int, RunEvent)] = []) -> StoreOperation {
            var b = StoreBatch(newSession: new ? session(key) : nil, sessionKey: key)
            b.runs = runs
            b.events = events.map { (runId: $0.0, seq: $0.1, event: $0.2) }
            return .batch(b)
        }
        try store.apply([
            batch("a", new: true, runs: [run("r1", "a", .queued)]),
            batch("a", runs: [run("r1", "a", .running)], events: [("r1", 0, RunEvent(.turn, ["text": "t"]))]),
            batch("a", runs: [run("r1", "a", .completed, "done")], events: [("r1", 1, RunEvent(.finished, ["status": "completed"]))]),
            batch("b", new: true, runs: [run("r2", "b", .running)]),
            .deleteSession("b"),
            batch("b", new: true, runs: [run("r2", "b", .queued)]),
        ])
        // r1 once, r2 once before the deletion and once after: three writes, not five.
        #expect(try counter.read { db in try Int.fetchOne(db, sql: "SELECT n FROM run_writes") } == 3)
        let state = try store.load(runLimit: 10)
        let r1 = try #require(state.runs.first { $0.id == "r1" })
        #expect(r1.status == .completed && r1.finalText == "done")
        #expect(r1.events.map(\.kind) == [.turn, .finished])
        // r2 as written after the deletion (stored queued, so marked interrupted at open).
        #expect(state.runs.map(\.id) == ["r1", "r2"])
        #expect(state.runs.last?.status == .interrupted && state.interrupted == 1)
    }

    /// A commit's rows go in several to a statement (32, 8, then one at a time), table by table:
    /// 45 runs' rows, an update of a run stored before, metadata replaced within one statement
    /// and across a compacted transcript all come back as written; new runs take positions in
    /// the order they were queued, after the runs already stored, and the updated run keeps its own.
    @Test func aLargeCommitInsertsItsRowsSeveralToAStatementAndKeepsTheirOrder() throws {
        let dir = try Fixtures.scratchDirectory("store")
        let store = try SQLiteStore(path: "\(dir)/s.sqlite")
        func run(_ n: Int, _ status: RunStatus) -> StoredRun {
            StoredRun(id: "r\(n)", sessionKey: "s\(n)", message: "hello \(n)", owner: .plugin("p\(n % 3)"), status: status,
                      finalText: "said \(n)", error: nil, durationMs: UInt64(n))
        }
        func batch(_ n: Int, status: RunStatus = .completed) -> StoreOperation {
            let key = "s\(n)"
            var b = StoreBatch(newSession: StoredSession(key: key, id: "id\(n)", owner: .plugin("p\(n % 3)"), model: "local/instant",
                                                         label: n % 2 == 0 ? "even" : nil, systemPrompt: nil, toolPolicy: ToolPolicy(),
                                                         timeoutSeconds: n, createdAtMs: UInt64(n), metadata: ["p": ["n": JSON(n)]], parentKey: nil),
                               sessionKey: key)
            b.messages = [(seq: 0, message: Message(role: .user, content: "hello \(n)")),
                          (seq: 1, message: Message(role: .assistant, content: "said \(n)"))]
            b.runs = [run(n, status)]
            b.events = [(runId: "r\(n)", seq: 0, event: RunEvent(.turn, ["text": .string("said \(n)")])),
                        (runId: "r\(n)", seq: 1, event: RunEvent(.finished, ["status": "completed"]))]
            return .batch(b)
        }
        func metadata(_ n: Int, _ value: JSON) -> StoreOperation {
            var b = StoreBatch(sessionKey: "s\(n)")
            b.metadata = ["p": value]
            return .batch(b)
        }
        var finished100 = StoreBatch(sessionKey: "s100")
        finished100.runs = [run(100, .completed)]
        try store.apply([batch(100, status: .queued)])
        // 41 runs, 40 sessions and 41 metadata rows before the transcript: statements of 32, 8 and 1.
        try store.apply([.batch(finished100)] + (0..<2).map { batch($0) } + [metadata(1, ["n": "again"])] + (2..<40).map { batch($0) }
                        + [.replaceTranscript(sessionKey: "s5", messages: [Message(role: .system, content: "summary")]),
                           metadata(3, ["n": "replaced"])] + (40..<45).map { batch($0) })
        let state = try store.load(runLimit: 100)
        #expect(state.runs.map(\.id) == ["r100"] + (0..<45).map { "r\($0)" })
        #expect(state.runs.allSatisfy { $0.status == .completed && $0.finalText == "said \($0.id.dropFirst())" })
        #expect(state.runs.dropFirst().allSatisfy { $0.events.count == 2 })
        let positions = try DatabaseQueue(path: "\(dir)/s.sqlite").read { db in
            try Row.fetchAll(db, sql: "SELECT id, position FROM runs ORDER BY position").map { ($0["id"] as String, $0["position"] as Int) }
        }
        #expect(positions.map(\.0) == ["r100"] + (0..<45).map { "r\($0)" })
        #expect(positions.first?.1 == 1 && zip(positions, positions.dropFirst()).allSatisfy { $0.1 < $1.1 })
        let sessions = Dictionary(uniqueKeysWithValues: state.sessions.map { ($0.key, $0) })
        #expect(sessions.count == 46)
        for n in 0..<45 {
            let s = try #require(sessions["s\(n)"])
            #expect(s.id == "id\(n)" && s.owner == .plugin("p\(n % 3)") && s.timeoutSeconds == n && s.label == (n % 2 == 0 ? "even" : nil))
            #expect(s.metadata["p"] == (n == 1 ? ["n": "again"] : n == 3 ? ["n": "replaced"] : ["n": JSON(n)]))
            #expect(s.transcript.map(\.content) == (n == 5 ? ["summary"] : ["hello \(n)", "said \(n)"]))
        }
    }

    /// The writer binds through SQLite's C API (BoundStatement): an empty text stays '' and nil is
    /// NULL; a failing step fails the commit whole with SQLite's message, and the next commit goes
    /// through; a short or refused bind runs nothing and says which parameter and why.
    @Test func boundWritesKeepEmptyTextApartFromNullAndReportFailures() throws {
        let dir = try Fixtures.scratchDirectory("store")
        let store = try SQLiteStore(path: "\(dir)/s.sqlite")
        var batch = StoreBatch(newSession: StoredSession(key: "k", id: "", owner: .operator, model: "local/instant", label: "", systemPrompt: nil,
                                                         toolPolicy: ToolPolicy(), timeoutSeconds: 60, createdAtMs: 1, metadata: [:], parentKey: nil),
                               sessionKey: "k")
        batch.messages = [(seq: 0, message: Message(role: .user, content: ""))]
        try store.apply([.batch(batch)])
        let session = try #require(try store.load(runLimit: 1).sessions.first)
        #expect(session.id == "" && session.label == "" && session.systemPrompt == nil && session.parentKey == nil)
        #expect(session.transcript.map(\.content) == [""])

        // A message for a session that does not exist breaks the foreign key: the commit fails whole.
        var orphan = StoreBatch(sessionKey: "missing")
        orphan.messages = [(seq: 0, message: Message(role: .user, content: "lost"))]
        var next = StoreBatch(sessionKey: "k")
        next.messages = [(seq: 1, message: Message(role: .user, content: "next"))]
        #expect {
            try store.apply([.batch(next), .batch(orphan)])
        } throws: { error in
            "\(error)".contains("store \(dir)/s.sqlite: write failed") && "\(error)".contains("FOREIGN KEY constraint failed")
        }
        #expect(try store.load(runLimit: 1).sessions.first?.transcript.map(\.content) == [""])
        // The statements the failed commit left are reset and unbound: the next commit goes through.
        try store.apply([.batch(next)])
        #expect(try store.load(runLimit: 1).sessions.first?.transcript.map(\.content) == ["", "next"])

        // Outside a transaction, so a statement that ran would stay run.
        let queue = try DatabaseQueue(path: "\(dir)/s.sqlite")
        try queue.writeWithoutTransaction { db in
            let update = try db.makeStatement(sql: "UPDATE sessions SET label = ?2 WHERE key = ?1")
            // Fewer values than parameters: refused before it runs (it would set the label to NULL).
            #expect {
                try update.execute { $0.text("k") }
            } throws: { error in
                "\(error)".contains("1 values bound for 2 parameters") && "\(error)".contains("UPDATE sessions SET label")
            }
            // A bind SQLite refuses (a text over the connection's length limit): its own message,
            // naming the parameter, though the bind after it succeeds; nothing runs.
            sqlite3_limit(db.sqliteConnection, SQLITE_LIMIT_LENGTH, 4)
            #expect {
                try update.execute { $0.text("k"); $0.text("too long") }
            } throws: { error in
                "\(error)".contains("parameter 2: string or blob too big")
            }
            sqlite3_limit(db.sqliteConnection, SQLITE_LIMIT_LENGTH, 1_000_000_000)
            try update.execute { $0.text("k"); $0.text("set") }
        }
        #expect(try queue.read { db in try String.fetchOne(db, sql: "SELECT label FROM sessions") } == "set")
    }

    /// Deleting a session deletes its runs through ON DELETE CASCADE, which looks them up by
    /// session_key: through runs_by_session (v4), not by reading every run stored. A store
    /// written before v4 gets the index when a host opens it.
    @Test func deletingASessionFindsItsRunsThroughAnIndexNotByReadingEveryRun() throws {
        let dir = try Fixtures.scratchDirectory("store")
        let path = "\(dir)/s.sqlite"
        try SQLiteStore.migrator.migrate(DatabaseQueue(path: path), upTo: "v3")
        let store = try SQLiteStore(path: path)
        try store.apply((0..<100).map { PersistenceTests.oneRunSession($0, .completed) })
        let outside = try PersistenceTests.outside(path)  // foreign keys on, as the store has them
        let (scanned, left) = try outside.write { db -> (Int32, [Int]) in
            let delete = try db.makeStatement(sql: "DELETE FROM sessions WHERE key = ?")
            try delete.execute(arguments: ["s42"])
            let left = try ["runs WHERE session_key", "run_events WHERE run_id", "messages WHERE session_key"].map { table in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) IN ('s42', 'r42')") ?? -1
            }
            return (sqlite3_stmt_status(delete.sqliteStatement, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0), left)
        }
        #expect(left == [0, 0, 0], "the session's run, event and message are deleted with it")
        #expect(scanned == 0, "the deletion stepped through \(scanned) rows of a full scan")
        try store.apply([.deleteSession("s7")])
        #expect(try store.load(runLimit: 1000).runs.count == 98)
        store.close()
    }

    /// The store deletes the runs the engine forgets, with their events, and opening it deletes
    /// runs older than the newest runLimit (no engine reads them back); a read-only opening
    /// deletes nothing. Sessions and transcripts stay.
    @Test func theStoreHoldsTheRunsAnEngineCanReadBack() throws {
        let dir = try Fixtures.scratchDirectory("store")
        let path = "\(dir)/s.sqlite"
        let store = try SQLiteStore(path: path)
        try store.apply([PersistenceTests.oneRunSession(0, .running)] + (1...600).map { PersistenceTests.oneRunSession($0, .completed) })
        // Forgotten runs go SQLiteStore.forgottenRunsPerDelete (512) at a time.
        let batch = SQLiteStore.forgottenRunsPerDelete
        try store.apply([.forgetRuns((1..<batch).map { "r\($0)" })])
        let outside = try PersistenceTests.outside(path)
        func contents() throws -> (runs: [String], events: Int?, sessions: Int?, messages: Int?) {
            try outside.read { db in
                (try String.fetchAll(db, sql: "SELECT id FROM runs ORDER BY position"), try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run_events"),
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sessions"), try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages"))
            }
        }
        #expect(try contents().runs.count == 601, "fewer than a batch forgotten: none deleted yet")
        try store.apply([.forgetRuns(["r\(batch)"])])
        var now = try contents()
        #expect(now.runs == ["r0"] + (batch + 1...600).map { "r\($0)" })
        #expect(now.events == now.runs.count && now.sessions == 601 && now.messages == 601)
        // Fewer than a batch wait; closing takes them.
        try store.apply([.forgetRuns(["r\(batch + 1)", "r\(batch + 2)"])])
        #expect(try contents().runs == now.runs)
        store.startWriting(committed: { _ in }, log: { _ in })
        store.close()
        now = try contents()
        #expect(now.runs == ["r0"] + (batch + 3...600).map { "r\($0)" })
        _ = try SQLiteStore(path: path, readOnly: true).load(runLimit: 10)
        #expect(try contents().runs.count == now.runs.count, "a read-only opening deletes nothing")
        let reopened = try SQLiteStore(path: path).load(runLimit: 10)
        now = try contents()
        #expect(reopened.runs.map(\.id) == (591...600).map { "r\($0)" })
        #expect(now.runs == (591...600).map { "r\($0)" } && now.events == 10 && now.sessions == 601 && now.messages == 601)
    }

    /// engine.retainedRuns reaches the store: the 515 runs an engine keeping five forgets are
    /// deleted (a batch of 512 while it runs, the rest at close), so the file holds its last five.
    @Test func anEngineLeavesItsRetainedRunsInTheStore() throws {
        let dir = try Fixtures.scratchDirectory("store")
        let engine = try PersistenceTests.engine(storingIn: dir) { $0.retainedRuns = 5 }
        var ids: [String] = []
        for _ in 0..<(SQLiteStore.forgottenRunsPerDelete + 8) {
            let started = try engine.spawn(SessionSpec(message: "hello"), by: .operator)
            #expect(try engine.wait(runId: started.runId, timeoutMs: 5000, by: .operator).status == .completed)
            ids.append(started.runId)
        }
        func stored() throws -> [String] {
            try PersistenceTests.outside("\(dir)/s.sqlite").read { db in try String.fetchAll(db, sql: "SELECT id FROM runs ORDER BY position") }
        }
        engine.shutdown()
        #expect(try stored() == Array(ids.suffix(5)))
    }

    /// Past engine.maxSessions the least recently active idle sessions are deleted, in memory and
    /// in the store; a session at work stays whatever its age, and a prompt makes a session recent.
    @Test func pastMaxSessionsTheLeastRecentlyActiveIdleSessionsAreDeleted() throws {
        let dir = try Fixtures.scratchDirectory("store")
        let engine = try PersistenceTests.engine(storingIn: dir) { $0.maxSessions = 4 }
        func spawned() throws -> String {
            let started = try engine.spawn(SessionSpec(message: "hello"), by: .operator)
            _ = try engine.wait(runId: started.runId, timeoutMs: 5000, by: .operator)
            return started.sessionKey
        }
        let busyStart = try engine.spawn(SessionSpec(message: #"@sleep{"ms":10000}"#), by: .operator)
        let (a, b, c) = (try spawned(), try spawned(), try spawned())
        #expect(Set(engine.sessionKeys) == [busyStart.sessionKey, a, b, c])
        _ = try engine.wait(runId: try engine.prompt(sessionKey: a, text: "again", by: .operator), timeoutMs: 5000, by: .operator)
        let d = try spawned()  // five: b goes (a was prompted since, the busy one is at work)
        let e = try spawned()  // then c
        #expect(Set(engine.sessionKeys) == [busyStart.sessionKey, a, d, e])
        #expect(throws: EngineError.self) { try engine.prompt(sessionKey: b, text: "still there?", by: .operator) }
        try engine.cancelRun(busyStart.runId, by: .operator)
        engine.shutdown()
        let reopened = try PersistenceTests.engine(storingIn: dir) { $0.maxSessions = 4 }
        #expect(Set(reopened.sessionKeys) == [busyStart.sessionKey, a, d, e])
        reopened.shutdown()
        // Reopened with a lower bound, the engine retires the excess as it starts, in the store too.
        let lowered = try PersistenceTests.engine(storingIn: dir) { $0.maxSessions = 2 }
        #expect(lowered.sessionKeys.count == 2)
        lowered.shutdown()
        let again = try PersistenceTests.engine(storingIn: dir) { $0.maxSessions = 4 }
        defer { again.shutdown() }
        #expect(again.sessionKeys.count == 2)
        // An engine that only looks (pincer sessions list) retires nothing, whatever its bound.
        var lookingConfig = EngineConfig()
        lookingConfig.maxSessions = 1
        let looking = try Engine(config: lookingConfig, store: try SQLiteStore(path: "\(dir)/s.sqlite", readOnly: true))
        #expect(looking.sessionKeys.count == 2)
        looking.shutdown()
    }

    /// Sessions read back from the store keep their callers: reopened with a lower bound, the
    /// engine retires from the largest holder (a plugin's) first, and the operator's stays.
    @Test func aLoweredBoundRetiresTheLargestHoldersSessionsAtStart() throws {
        let dir = try Fixtures.scratchDirectory("store")
        let engine = try PersistenceTests.engine(storingIn: dir) { $0.maxSessions = 10 }
        func spawned(by caller: Caller) throws -> String {
            let started = try engine.spawn(SessionSpec(message: "hello"), by: caller)
            _ = try engine.wait(runId: started.runId, timeoutMs: 5000, by: caller)
            return started.sessionKey
        }
        let mine = try spawned(by: .operator)
        let theirs = [try spawned(by: .plugin("p")), try spawned(by: .plugin("p")), try spawned(by: .plugin("p"))]
        engine.shutdown()
        let lowered = try PersistenceTests.engine(storingIn: dir) { $0.maxSessions = 2 }
        defer { lowered.shutdown() }
        #expect(Set(lowered.sessionKeys) == [mine, theirs[2]])
    }

    @Test func aStoreThatIsNotADatabaseOrIsNewerIsRefusedByName() throws {
        let dir = try Fixtures.scratchDirectory("store")
        let garbage = "\(dir)/garbage.sqlite"
        try String(repeating: "not a database ", count: 300).write(toFile: garbage, atomically: true, encoding: .utf8)
        #expect(throws: EngineError.self) { try SQLiteStore(path: garbage) }
        do { _ = try SQLiteStore(path: garbage) } catch {
            #expect(error.message.hasPrefix("cannot open the store at \(garbage): "), "\(error.message)")
        }

        let newer = "\(dir)/newer.sqlite"
        _ = try SQLiteStore(path: newer)
        let queue = try DatabaseQueue(path: newer)
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')") }
        do {
            _ = try SQLiteStore(path: newer)
            Issue.record("a newer store was opened")
        } catch {
            #expect(error.message.contains("was written by a newer Pincer"), "\(error.message)")
            #expect(error.message.contains(newer))
        }
        // The CLI says the same, naming the file.
        do {
            try runCommand(pincer, ["run", "--plugins", dir, "--store", newer, "hi"])
            Issue.record("pincer run opened a newer store")
        } catch {
            #expect("\(error)".contains("was written by a newer Pincer"), "\(error)")
        }
    }
}
