// The Rust sample swarm-steer, built by cargo and loaded into the real host:
// sessions created in a group hear each completed message of another member,
// steered in while they stream and prompted when they do not, one hop only,
// and no more than the per-member rate limit allows.

import Foundation
import PincerCore
@testable import PincerHost
import Testing

@Suite struct SwarmSteerTests {
    /// The operator limits each member to 2 relays a minute and grants nothing else: the
    /// namespace a creator hands swarm-steer shares the session with it.
    private func host() throws -> TestHost {
        let config = try OperatorConfig.parse(#"""
            {"plugins": {"entries": {"swarm-steer": {"config": {"maxMessages": 2, "windowMs": 60000}}}}}
            """#, source: "test")
        let t = try TestHost(config: config)
        let path = try Cargo.plugin("SamplePlugins/rust/swarm-steer", library: "swarm_steer", into: t.directory, as: "swarm-steer.so")
        let record = t.host.load(file: path)
        #expect(record.state == .loaded, "\(record.reason ?? "")")
        t.host.start()
        return t
    }

    /// An operator's session, created in `group` the way `pincer run --metadata` does.
    private func member(_ t: TestHost, _ message: String, group: String) throws -> (sessionKey: String, runId: String) {
        try t.engine.spawn(SessionSpec(message: message, metadata: ["swarm-steer": try JSON.parse(#"{"group":"\#(group)"}"#)]), by: .operator)
    }

    private func completes(_ t: TestHost, _ runId: String) throws {
        #expect(try t.engine.wait(runId: runId, timeoutMs: 10_000, by: .operator).status == .completed)
    }

    /// Polls until `condition` holds, for at most 10 s.
    private func eventually(_ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if try condition() { return true }
            usleep(5_000)
        }
        return try condition()
    }

    private func messages(_ t: TestHost, _ key: String, _ role: Message.Role) throws -> [String] {
        try t.engine.transcript(sessionKey: key, by: .operator).filter { $0.role == role }.map(\.content)
    }

    /// Every run of every session has ended, and the observers have had a moment to act on the last one.
    private func settle(_ t: TestHost, _ keys: [String]) -> Bool {
        func ended() -> Bool { keys.allSatisfy { t.engine.runs(ofSession: $0).allSatisfy { $0.status != .queued && $0.status != .running } } }
        let first = eventually(ended)
        usleep(300_000)
        return first && ended()
    }

    @Test func aMembersMessageIsSteeredIntoStreamingPeersAndPromptedToIdleOnesOneHopOnly() throws {
        let t = try host()
        defer { t.close() }
        let charlie = try member(t, "charlie idles", group: "g1")
        try completes(t, charlie.runId)
        let delta = try member(t, "delta elsewhere @swarm-steer.members", group: "g2")
        try completes(t, delta.runId)
        let bravo = try member(t, #"bravo works @sleep{"ms":1500}"#, group: "g1")
        #expect(try eventually { try t.engine.transcript(sessionKey: bravo.sessionKey, by: .operator).contains { !$0.toolCalls.isEmpty } })
        let alpha = try member(t, "alpha found the bug", group: "g1")
        try completes(t, alpha.runId)

        let fromAlpha = "[swarm g1] \(alpha.sessionKey): You said: alpha found the bug."
        // Charlie was idle: a follow-up prompt. Bravo was streaming: a steer its running run saw.
        #expect(try eventually { try messages(t, charlie.sessionKey, .user).contains(fromAlpha) })
        try completes(t, bravo.runId)
        #expect(try messages(t, bravo.sessionKey, .steer) == [fromAlpha])
        #expect(try t.engine.wait(runId: bravo.runId, timeoutMs: 0, by: .operator).finalText?.hasPrefix("Steering noted: \(fromAlpha)") == true)
        // Bravo's own answer reaches the others in turn (alpha is idle by now: a prompt).
        #expect(try eventually { try messages(t, alpha.sessionKey, .user).contains { $0.hasPrefix("[swarm g1] \(bravo.sessionKey): Steering noted") } })

        #expect(settle(t, [alpha.sessionKey, bravo.sessionKey, charlie.sessionKey]))
        // One hop: what charlie answered to the relayed prompt is not relayed again.
        for key in [alpha.sessionKey, bravo.sessionKey] {
            #expect(try !(messages(t, key, .user) + messages(t, key, .steer)).contains { $0.contains("[swarm g1] \(charlie.sessionKey)") })
        }
        // Another group hears nothing; its tool lists its own members.
        #expect(try messages(t, delta.sessionKey, .user) == ["delta elsewhere @swarm-steer.members"])
        let listed = try #require(try t.engine.transcript(sessionKey: delta.sessionKey, by: .operator).first { $0.toolName == "swarm-steer.members" })
        #expect(listed.content == #"{"group":"g2","members":["\#(delta.sessionKey)"]}"#)
    }

    @Test func aChattyMemberIsHeldToItsRateLimit() throws {
        let t = try host()
        defer { t.close() }
        let listener = try member(t, "listener", group: "chat")
        try completes(t, listener.runId)
        let chatty = try member(t, "one", group: "chat")
        try completes(t, chatty.runId)
        for text in ["two", "three"] {
            try completes(t, try t.engine.prompt(sessionKey: chatty.sessionKey, text: text, by: .operator))
        }
        #expect(settle(t, [listener.sessionKey, chatty.sessionKey]))
        // Prompted, or steered when the listener was still answering the previous one.
        let heard = try t.engine.transcript(sessionKey: listener.sessionKey, by: .operator).filter { $0.role == .user || $0.role == .steer }.map(\.content).filter { $0.hasPrefix("[swarm chat] \(chatty.sessionKey)") }
        #expect(heard == ["one", "two"].map { "[swarm chat] \(chatty.sessionKey): You said: \($0)." })
        #expect(t.logs.contains("[swarm-steer] warn: \(chatty.sessionKey) is over its relay limit (2 per 60000 ms"), "\(t.logs.all)")
    }

    @Test func aMemberAnotherCreatorMadeLeavesItsGroupOnceDeleted() throws {
        let t = try host()
        defer { t.close() }
        let gone = try member(t, "gone", group: "g")
        try completes(t, gone.runId)
        try t.engine.deleteSession(gone.sessionKey, by: .operator)
        let speaker = try member(t, "speaker", group: "g")
        try completes(t, speaker.runId)
        let after = try member(t, "after", group: "g")
        try completes(t, after.runId)
        // The speaker hears the newcomer; the deleted member is no longer relayed to (nothing fails).
        #expect(eventually { (try? messages(t, speaker.sessionKey, .user).count) == 2 }, "\(t.logs.all)")
        #expect(!t.logs.contains("[swarm-steer] error"), "\(t.logs.all)")
    }

    @Test func aMalformedGroupIsRefusedAtCreation() throws {
        let t = try host()
        defer { t.close() }
        for (namespace, why) in [(#"{"group":"no spaces"}"#, #"group "no spaces" is not 1 to 64 characters"#),
                                 (#"{"group":7}"#, #""group" must be a string"#)] {
            #expect {
                try t.engine.spawn(SessionSpec(message: "hi", metadata: ["swarm-steer": try JSON.parse(namespace)]), by: .operator)
            } throws: { error in
                (error as? EngineError).map { $0.kind == .denied && $0.message.contains("swarm-steer: \(why)") } ?? false
            }
        }
    }
}
