// What happened in a run, in order: each model turn, tool call, tool result,
// steering delivered, compaction, a hook's patch or block, and the run's end. Recorded per turn (not
// per streamed token) and kept with the run in the store.

public struct RunEvent: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case turn
        case toolCall = "tool_call"
        case toolResult = "tool_result"
        case steer
        case compacted
        /// A gate hook patched or blocked something.
        case hook
        /// What an external agent reported besides text and tool calls: a thought, a plan, a mode, its usage.
        case agentUpdate = "agent_update"
        case finished
    }

    public var kind: Kind
    public var detail: JSON
    public var atMs: UInt64

    public init(_ kind: Kind, _ detail: JSON, atMs: UInt64 = WallClock.milliseconds()) {
        self.kind = kind
        self.detail = detail
        self.atMs = atMs
    }

    /// {"kind", "at", …detail's members}: how a gateway client sees it.
    public var json: JSON {
        var members: [(String, JSON)] = [("kind", .string(kind.rawValue)), ("at", JSON(atMs))]
        if case .object(let detail) = detail { members += detail }
        return .object(members)
    }

    /// One line for people: "tool_call echo {"text":"hi"}".
    public var summary: String {
        switch kind {
        case .turn: return "turn: \(detail["text"]?.stringValue ?? "")"
        case .toolCall: return "tool_call \(detail["name"]?.stringValue ?? "?") \(detail["arguments"] ?? [:])"
        case .toolResult:
            return "tool_result \(detail["name"]?.stringValue ?? "?")\(detail["isError"]?.boolValue == true ? " (error)" : ""): \(detail["content"]?.stringValue ?? "")"
        case .steer: return "steer: \(detail["text"]?.stringValue ?? "")"
        case .compacted: return "compacted \(detail["messages"]?.wholeNumber ?? 0) messages"
        case .hook:
            return "hook \(detail["point"]?.stringValue ?? "?") \(detail["decision"]?.stringValue ?? "?") by \(detail["plugin"]?.stringValue ?? "?")\(detail["reason"]?.stringValue.map { ": \($0)" } ?? "")"
        case .agentUpdate: return "agent_update \(detail["update"]?.stringValue ?? "?")"
        case .finished: return "finished \(detail["status"]?.stringValue ?? "")\(detail["error"]?.stringValue.map { ": \($0)" } ?? "")"
        }
    }
}
