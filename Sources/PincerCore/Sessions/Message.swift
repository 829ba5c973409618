// One entry of a transcript, and its JSON form (what host->messages returns).

public struct ToolCall: Equatable, Sendable {
    public var id: String
    public var name: String
    public var arguments: JSON

    public init(id: String, name: String, arguments: JSON) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    /// {"id", "name", "arguments"}: a call as transcripts, run events and the store write it.
    public var json: JSON { ["id": .string(id), "name": .string(name), "arguments": arguments] }
}

public struct Message: Equatable, Sendable {
    public enum Role: String, Sendable {
        /// The user's message that started a run.
        case user
        case assistant
        /// A tool's result (or error) for a tool call.
        case tool
        /// Text injected by steer() at a tool-call or turn boundary.
        case steer
        case system
    }

    public var role: Role
    public var content: String
    public var toolCalls: [ToolCall] = []
    /// For role .tool: which call this answers, and whether it failed.
    public var toolCallId: String?
    public var toolName: String?
    public var isError = false
    public var runId: String?
    public var atMs: UInt64 = WallClock.milliseconds()

    public init(role: Role, content: String, runId: String? = nil) {
        self.role = role
        self.content = content
        self.runId = runId
    }

    var json: JSON {
        var members: [(String, JSON)] = [("role", .string(role.rawValue)), ("content", .string(content))]
        if !toolCalls.isEmpty {
            members.append(("toolCalls", .array(toolCalls.map(\.json))))
        }
        if let toolCallId { members.append(("toolCallId", .string(toolCallId))) }
        if let toolName { members.append(("toolName", .string(toolName))) }
        if role == .tool { members.append(("isError", .bool(isError))) }
        if let runId { members.append(("runId", .string(runId))) }
        members.append(("at", JSON(atMs)))
        return .object(members)
    }
}
