// The engine on its own: the local model's script, steering outcomes, run
// retention and shutdown. (Everything a plugin does through the ABI is
// tested again, from C, in PincerHostTests.)

import Foundation
@testable import PincerCore
import PincerStore
import Testing

@Suite struct EngineTests {
    @Test func theLocalModelFollowsItsScript() throws {
        let e = try Engine.quick()
        defer { e.shutdown() }
        let started = try e.spawn(SessionSpec(message: "Plan it @echo{\"text\":\"a b\"} @clock then stop"), by: .operator)
        let run = try e.wait(runId: started.runId, timeoutMs: 5000, by: .operator)
        #expect(run.status == .completed)
        #expect(run.finalText?.hasPrefix("You said: Plan it then stop. Tool results: echo → a b; clock → ") == true, "\(run.finalText ?? "")")
        let roles = try e.transcript(sessionKey: started.sessionKey, by: .operator).map(\.role)
        #expect(roles == [.user, .assistant, .tool, .assistant, .tool, .assistant])
    }

    @Test func steerOutcomes() throws {
        let e = try Engine.quick { $0.tokenDelayMs = 1 }
        defer { e.shutdown() }
        #expect(try e.steer(sessionKey: "nope", text: "x", by: .operator) == .noSession)
        let started = try e.spawn(SessionSpec(message: "@sleep{\"ms\":200}"), by: .operator)
        var outcome = Engine.SteerOutcome.notStreaming
        let deadline = Date().addingTimeInterval(2)
        while outcome != .queued, Date() < deadline { outcome = try e.steer(sessionKey: started.sessionKey, text: "hurry", by: .operator) }
        #expect(outcome == .queued)
        // A run that was asked to stop is no longer streaming for steering purposes.
        try e.cancelRun(started.runId, by: .operator)
        let afterCancel = try e.steer(sessionKey: started.sessionKey, text: "x", by: .operator)
        #expect(afterCancel == .notStreaming || afterCancel == .noActiveRun)
        _ = try e.wait(runId: started.runId, timeoutMs: 2000, by: .operator)
        #expect(try e.steer(sessionKey: started.sessionKey, text: "x", by: .operator) == .noActiveRun)
        #expect(throws: EngineError(.invalidArgument, "text is empty")) { try e.steer(sessionKey: started.sessionKey, text: "", by: .operator) }
    }

    @Test func aRunRecordsItsEventsInOrder() throws {
        let e = try Engine.quick { $0.tokenDelayMs = 1 }
        defer { e.shutdown() }
        let started = try e.spawn(SessionSpec(message: "@sleep{\"ms\":200} @echo{\"text\":\"x\"}"), by: .operator)
        var outcome = Engine.SteerOutcome.notStreaming
        let deadline = Date().addingTimeInterval(2)
        while outcome != .queued, Date() < deadline { outcome = try e.steer(sessionKey: started.sessionKey, text: "left", by: .operator) }
        #expect(try e.wait(runId: started.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        let kinds = try e.events(ofRun: started.runId, by: .operator).map(\.kind)
        #expect(kinds == [.turn, .toolCall, .toolResult, .steer, .turn, .toolCall, .toolResult, .turn, .finished], "\(kinds)")
        #expect(throws: EngineError.self) { try e.events(ofRun: started.runId, by: .plugin("stranger")) }
    }

    @Test func aRunHoldsAtMost32PendingSteers() throws {
        let e = try Engine.quick { $0.tokenDelayMs = 1 }
        defer { e.shutdown() }
        let started = try e.spawn(SessionSpec(message: "@sleep{\"ms\":500} then answer"), by: .operator)
        var outcome = Engine.SteerOutcome.notStreaming
        let deadline = Date().addingTimeInterval(2)
        while outcome != .queued, Date() < deadline { outcome = try e.steer(sessionKey: started.sessionKey, text: "s0", by: .operator) }
        for i in 1..<Engine.maxPendingSteers { #expect(try e.steer(sessionKey: started.sessionKey, text: "s\(i)", by: .operator) == .queued) }
        #expect(try e.steer(sessionKey: started.sessionKey, text: "one too many", by: .operator) == .busy)
        #expect(try e.wait(runId: started.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        let delivered = try e.transcript(sessionKey: started.sessionKey, by: .operator).filter { $0.role == .steer }.map(\.content)
        #expect(delivered == (0..<Engine.maxPendingSteers).map { "s\($0)" })
    }

    @Test func endedRunsAreForgottenOldestFirstPastTheRetentionLimit() throws {
        let e = try Engine.quick { $0.retainedRuns = 5 }
        defer { e.shutdown() }
        let first = try e.spawn(SessionSpec(message: "one"), by: .operator)
        _ = try e.wait(runId: first.runId, timeoutMs: 5000, by: .operator)
        var last = first.runId
        for i in 0..<6 {
            last = try e.prompt(sessionKey: first.sessionKey, text: "more \(i)", by: .operator)
            _ = try e.wait(runId: last, timeoutMs: 5000, by: .operator)
        }
        #expect(e.run(first.runId) == nil)
        #expect(e.run(last)?.status == .completed)
        #expect(throws: EngineError.self) { try e.wait(runId: first.runId, timeoutMs: 0, by: .operator) }
    }

    @Test func shutdownInterruptsRunningAndQueuedRuns() throws {
        let e = try Engine.quick()
        let started = try e.spawn(SessionSpec(message: "@sleep{\"ms\":5000}"), by: .operator)
        let queued = try e.prompt(sessionKey: started.sessionKey, text: "later", by: .operator)
        Thread.sleep(forTimeInterval: 0.05)
        e.shutdown()
        #expect(e.run(started.runId)?.status == .interrupted)
        #expect(e.run(queued)?.status == .interrupted)
        #expect(throws: EngineError.self) { try e.spawn(SessionSpec(message: "x"), by: .operator) }
    }

    @Test func theTurnLimitEndsARunThatKeepsCallingTools() throws {
        let e = try Engine.quick { $0.maxTurns = 2 }
        defer { e.shutdown() }
        let started = try e.spawn(SessionSpec(message: "@echo @echo @echo"), by: .operator)
        let run = try e.wait(runId: started.runId, timeoutMs: 5000, by: .operator)
        #expect(run.status == .failed)
        #expect(run.error == "the run reached the turn limit of 2 model turns")
    }

    @Test func isStreamingReadsTheStateIndex() throws {
        let e = try Engine.quick { $0.tokenDelayMs = 1 }
        defer { e.shutdown() }
        let started = try e.spawn(SessionSpec(message: "@sleep{\"ms\":300}"), by: .operator)
        func streaming(as caller: Caller = .operator) -> Engine.StreamingAnswer {
            var key = started.sessionKey
            return key.withUTF8 {
                e.isStreaming(sessionKey: UnsafeRawBufferPointer($0), caller: caller, callerNumber: e.number(of: caller),
                              fullAccess: e.hasFullSessionAccess(caller))
            }
        }
        let deadline = Date().addingTimeInterval(2)
        while streaming() != .streaming(true), Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
        #expect(streaming() == .streaming(true))
        #expect(streaming(as: .plugin("stranger")) == .denied)
        _ = try e.wait(runId: started.runId, timeoutMs: 5000, by: .operator)
        #expect(streaming() == .streaming(false))
        try e.deleteSession(started.sessionKey, by: .operator)
        #expect(streaming() == .noSession)
    }

    @Test func runsAtWorkAreBoundedAcrossAllCallersWithAClearRefusal() throws {
        let e = try Engine.quick { $0.maxConcurrentRuns = 2 }
        defer { e.shutdown() }
        let busy = try (0..<2).map { _ in try e.spawn(SessionSpec(message: #"@sleep{"ms":400}"#), by: .operator) }
        #expect(throws: EngineError(.limit, "spawn refused: 2 sessions already have a run at work, across all callers (guards.maxConcurrentRuns = 2)")) {
            try e.spawn(SessionSpec(message: "hi"), by: .operator)
        }
        // A follow-up in a session already at work queues behind its run: it needs no other worker.
        let followUp = try e.prompt(sessionKey: busy[0].sessionKey, text: "and then", by: .operator)
        #expect(e.statusJSON().contains(#""sessionsAtWork":2"#))
        #expect(try e.wait(runId: followUp, timeoutMs: 10_000, by: .operator).status == .completed)
        #expect(try e.wait(runId: busy[1].runId, timeoutMs: 10_000, by: .operator).status == .completed)
        // Workers leave as their queues drain; then work is admitted again.
        let deadline = Date().addingTimeInterval(5)
        var again: (sessionKey: String, runId: String)?
        while again == nil, Date() < deadline {
            again = try? e.spawn(SessionSpec(message: "hi"), by: .operator)
            if again == nil { usleep(10_000) }
        }
        #expect(try e.wait(runId: try #require(again).runId, timeoutMs: 10_000, by: .operator).status == .completed)
    }
}

@Suite struct CompactionTests {
    @Test func pastTheBudgetThePrefixBecomesASummaryAndSteerSaysCompacting() throws {
        let dir = NSTemporaryDirectory() + "pincer-compaction-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = EngineConfig()
        config.tokenDelayMs = 10 // the summary streams for ~300 ms: a window steer can hit even on a loaded machine
        config.compactionBudgetChars = 300
        let e = try Engine(config: config, store: try SQLiteStore(path: "\(dir)/s.sqlite"))
        let long = String(repeating: "plan the quarterly release carefully ", count: 6)
        let first = try e.spawn(SessionSpec(message: long), by: .operator)
        #expect(try e.wait(runId: first.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        let before = try e.transcript(sessionKey: first.sessionKey, by: .operator).count

        let second = try e.prompt(sessionKey: first.sessionKey, text: "and now the summary @echo{\"text\":\"done\"}", by: .operator)
        // Watch the state (no side effects); steer only while it says compacting, so no pile of
        // queued steering lengthens the run.
        var sawCompacting = false
        let deadline = Date().addingTimeInterval(5)
        while !sawCompacting, Date() < deadline, e.run(second)?.status.isTerminal != true {
            if e.sessionSummaries.first(where: { $0.key == first.sessionKey })?.state == .compacting {
                sawCompacting = try e.steer(sessionKey: first.sessionKey, text: "hurry", by: .operator) == .compacting
            }
        }
        #expect(sawCompacting, "steer never answered compacting")
        #expect(try e.wait(runId: second, timeoutMs: 10_000, by: .operator).status == .completed)

        let after = try e.transcript(sessionKey: first.sessionKey, by: .operator)
        #expect(after.first?.role == .system)
        #expect(after.first?.content.hasPrefix("Summary of \(before) earlier messages. Asked: plan the quarterly release") == true, "\(after.first?.content ?? "")")
        #expect(after.dropFirst().first?.content == "and now the summary @echo{\"text\":\"done\"}")
        #expect(after.contains { $0.toolName == "echo" && $0.content == "done" })
        e.shutdown()

        // The store holds the compacted transcript, not the old one.
        let reopened = try Engine(config: config, store: try SQLiteStore(path: "\(dir)/s.sqlite"))
        defer { reopened.shutdown() }
        #expect(try reopened.transcript(sessionKey: first.sessionKey, by: .operator) == after)
    }
}

extension CompactionTests {
    /// Compaction in the middle of a run moves the run's message: the local model, which keeps
    /// where its script stands between turns, must read the run again, neither repeating nor
    /// skipping a call, and still list every result.
    @Test func aRunCompactedBetweenItsTurnsGoesOnWhereItStood() throws {
        let e = try Engine.quick { $0.compactionBudgetChars = 300 }
        defer { e.shutdown() }
        let first = try e.spawn(SessionSpec(message: "hello"), by: .operator)
        #expect(try e.wait(runId: first.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        // Under the budget (300) at its first turn (about 250 characters in all); the echo's
        // result puts it over before the second.
        let long = String(repeating: "x", count: 200)
        let second = try e.prompt(sessionKey: first.sessionKey, text: "@echo{\"text\":\"\(long)\"} @clock", by: .operator)
        let run = try e.wait(runId: second, timeoutMs: 10_000, by: .operator)
        #expect(run.status == .completed)
        let transcript = try e.transcript(sessionKey: first.sessionKey, by: .operator)
        #expect(transcript.first?.role == .system, "not compacted: \(transcript.map(\.role))")
        let calls = transcript.flatMap(\.toolCalls).map { "\($0.id) \($0.name)" }
        #expect(calls == ["call-1 echo", "call-2 clock"])
        #expect(run.finalText?.contains("echo → \(long)") == true && run.finalText?.contains("; clock →") == true, "\(run.finalText ?? "")")
    }
}

@Suite struct RetainedRunTests {
    /// Past engine.maxSessions the caller holding the most sessions gives way: a plugin that
    /// spawns without end deletes only its own sessions, never the operator's.
    @Test func pastMaxSessionsTheLargestHolderGivesWay() throws {
        let e = try Engine.quick { $0.maxSessions = 4 }
        defer { e.shutdown() }
        func spawned(by caller: Caller) throws -> String {
            let started = try e.spawn(SessionSpec(message: "hi"), by: caller)
            #expect(try e.wait(runId: started.runId, timeoutMs: 10_000, by: caller).status == .completed)
            return started.sessionKey
        }
        let mine = [try spawned(by: .operator), try spawned(by: .operator)]
        var flood: [String] = []
        for _ in 0..<6 { flood.append(try spawned(by: .plugin("flood"))) }
        #expect(Set(e.sessionKeys) == Set(mine + flood.suffix(2)))
        // Now the operator holds the most, three: its least recent goes.
        let third = try spawned(by: .operator)
        #expect(Set(e.sessionKeys) == Set([mine[1], third] + flood.suffix(2)))
    }

    @Test func endedRunsAreForgottenPastTheirByteBudget() throws {
        let e = try Engine.quick { $0.retainedRunBytes = 1 << 20 }
        defer { e.shutdown() }
        let big = String(repeating: "x", count: 300 << 10)
        var ids: [String] = []
        for _ in 0..<8 {
            let started = try e.spawn(SessionSpec(message: big), by: .operator)
            #expect(try e.wait(runId: started.runId, timeoutMs: 10_000, by: .operator).status == .completed)
            ids.append(started.runId)
        }
        // Each run holds its 300 KiB message and a final text quoting it: only the newest fit in 1 MiB.
        #expect(e.run(ids.last!) != nil)
        #expect(e.run(ids.first!) == nil, "the oldest run is still held")
        #expect(ids.filter { e.run($0) != nil }.count <= 3)
    }
}
