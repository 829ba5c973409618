import Foundation
@testable import PincerCore
import Testing

@Suite struct ToolPolicyTests {
    let groups: (String) -> [String]? = { $0 == "fs" ? ["read", "write"] : nil }

    @Test func globsGroupsAndDenyWins() {
        let policy = ToolPolicy(allow: ["calendar*", "group:fs", "echo"], deny: ["calendar_delete", "Write"])
        #expect(policy.decide(tool: "calendar_list", groupMembers: groups) == .allowed)
        #expect(policy.decide(tool: "CALENDAR_LIST", groupMembers: groups) == .allowed)
        #expect(policy.decide(tool: "read", groupMembers: groups) == .allowed)
        #expect(policy.decide(tool: "echo", groupMembers: groups) == .allowed)
        #expect(policy.decide(tool: "calendar_delete", groupMembers: groups)
            == .denied("tool 'calendar_delete' is denied by the session's tool policy (deny pattern 'calendar_delete')"))
        #expect(policy.decide(tool: "write", groupMembers: groups) == .denied("tool 'write' is denied by the session's tool policy (deny pattern 'write')"))
        #expect(policy.decide(tool: "sleep", groupMembers: groups)
            == .denied("tool 'sleep' is not in the session's allow list (calendar*, group:fs, echo)"))
        #expect(policy.decide(tool: "echoes", groupMembers: groups) != .allowed)
    }

    @Test func anEmptyAllowListAllowsAllButTheDenied() {
        let policy = ToolPolicy(deny: ["*_delete", "group:unknown"])
        #expect(policy.decide(tool: "anything", groupMembers: groups) == .allowed)
        #expect(policy.decide(tool: "file_delete", groupMembers: groups) != .allowed)
        #expect(ToolPolicy(deny: ["*"]).decide(tool: "echo", groupMembers: groups) != .allowed)
    }

    @Test func globMatching() {
        func g(_ p: String, _ n: String) -> Bool { ToolPolicy.glob(Array(p.utf8)[...], Array(n.utf8)[...]) }
        #expect(g("a*c", "abbbc"))
        #expect(g("*", ""))
        #expect(g("a**", "a"))
        #expect(!g("a*c", "abcd"))
        #expect(g("*.read", "fs.read"))
        #expect(!g("fs", "fs.read"))
    }
}

/// What a session is offered is worked out once per run, and again when a tool comes or goes.
@Suite struct OfferedToolsTests {
    /// Records the tools each turn is offered; its first turns call the tools that add and drop one.
    final class Probe: ModelProvider, @unchecked Sendable {
        private let lock = NSLock()
        private var turns: [[String]] = []
        var offered: [[String]] { lock.withLock { turns } }
        var models: [ModelDescriptor] { [ModelDescriptor(id: "probe/tools", provider: "probe", description: "", supportsTools: true, streams: false)] }

        func respond(to request: ModelRequest, context: TurnContext) throws -> ModelTurn {
            let turn = lock.withLock { turns.append(request.tools.map(\.name)); return turns.count }
            switch turn {
            case 1: return ModelTurn(text: "", toolCalls: [ToolCall(id: "c1", name: "add_late", arguments: [:])])
            case 2: return ModelTurn(text: "", toolCalls: [ToolCall(id: "c2", name: "drop_late", arguments: [:])])
            default: return ModelTurn(text: "done", toolCalls: [])
            }
        }
    }

    @Test func aToolAddedOrWithdrawnMidRunIsOfferedFromTheNextTurn() throws {
        let tools = ToolRegistry()
        let late = ToolDefinition(name: "late", description: "", parameters: [:]) { _, _ in "" }
        try tools.register(ToolDefinition(name: "add_late", description: "", parameters: [:]) { _, _ in
            try tools.register(late)
            return "added"
        })
        try tools.register(ToolDefinition(name: "drop_late", description: "", parameters: [:]) { _, _ in
            tools.unregister(name: "LATE")
            return "dropped"
        })
        var config = EngineConfig()
        config.defaultModel = "probe/tools"
        let probe = Probe()
        let engine = try Engine(config: config, providers: [probe], tools: tools)
        defer { engine.shutdown() }
        let run = try engine.spawn(SessionSpec(message: "go"), by: .operator).runId
        #expect(try engine.wait(runId: run, timeoutMs: 10_000, by: .operator).status == .completed)
        let offered = probe.offered
        try #require(offered.count == 3)
        #expect(offered[0].contains("add_late") && !offered[0].contains("late"))
        #expect(offered[1].contains("late"))
        #expect(!offered[2].contains("late") && offered[2].contains("drop_late"))
    }

    @Test func namesFoldToLowerCaseBeyondASCII() {
        #expect(ToolPolicy.folded("calendar_list") == "calendar_list")
        #expect(ToolPolicy.folded("Calendar_LIST") == "calendar_list")
        #expect(ToolPolicy.folded("ÜBER_tool") == "über_tool")
        #expect(ToolPolicy(allow: ["Über*"]).decide(tool: "ÜBERSICHT", groupMembers: { _ in nil }) == .allowed)
    }
}
