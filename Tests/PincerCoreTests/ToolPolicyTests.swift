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
