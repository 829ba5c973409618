// The tools sessions can call, by name, and the named groups policies refer to.
// The built-in tools live here; plugin tools register through the host.

import Synchronization

/// What a tool learns about the call it serves.
public struct ToolCallContext: Sendable {
    public var sessionKey: String
    public var sessionId: String
    public var runId: String
    public var toolCallId: String
    /// Sleeps up to `nanoseconds`; throws when the run was cancelled or timed out meanwhile.
    public var pause: @Sendable (UInt64) throws -> Void
}

public struct ToolDefinition: Sendable {
    public var name: String
    public var description: String
    /// JSON Schema of the arguments object.
    public var parameters: JSON
    public var group: String?
    /// The plugin that registered it; nil for the host's own tools.
    public var owner: String?
    /// Returns the tool's text result; a thrown error becomes an error result for the model.
    public var invoke: @Sendable (JSON, ToolCallContext) throws -> String

    public init(name: String, description: String, parameters: JSON, group: String? = nil, owner: String? = nil,
                invoke: @escaping @Sendable (JSON, ToolCallContext) throws -> String)
    {
        self.name = name
        self.description = description
        self.parameters = parameters
        self.group = group
        self.owner = owner
        self.invoke = invoke
    }
}

public struct ToolFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public final class ToolRegistry: Sendable {
    /// The tools by folded name, the same sorted by name (what every model turn offers from),
    /// and a generation that moves with each change, so a run can keep what it worked out.
    private struct Catalog {
        var byName: [String: ToolDefinition] = [:]
        var sorted: [ToolDefinition] = []
        var generation: UInt64 = 0

        mutating func changed() {
            sorted = byName.values.sorted { $0.name < $1.name }
            generation &+= 1
        }
    }

    private let catalog = Mutex(Catalog())

    public init(builtins: Bool = true) {
        if builtins { for tool in BuiltinTools.all { try? register(tool) } }
    }

    /// Adds a tool; a name already taken is refused, naming who has it.
    public func register(_ tool: ToolDefinition) throws(EngineError) {
        let name = ToolPolicy.folded(tool.name)
        try catalog.withLock { (catalog: inout Catalog) throws(EngineError) in
            if let existing = catalog.byName[name] {
                let holder = existing.owner.map { "plugin '\($0)'" } ?? "the host (a built-in tool)"
                let asker = tool.owner.map { "plugin '\($0)'" } ?? "the host"
                throw EngineError(.invalidArgument, "tool '\(tool.name)' from \(asker) clashes with the tool of that name registered by \(holder)")
            }
            catalog.byName[name] = tool
            catalog.changed()
        }
    }

    /// Withdraws one tool: no new call of it starts.
    public func unregister(name: String) {
        catalog.withLock { catalog in
            if catalog.byName.removeValue(forKey: ToolPolicy.folded(name)) != nil { catalog.changed() }
        }
    }

    public func tool(named name: String) -> ToolDefinition? { catalog.withLock { $0.byName[ToolPolicy.folded(name)] } }

    public var names: [String] { catalog.withLock { $0.byName.keys.sorted() } }

    /// Every tool, by name.
    public var all: [ToolDefinition] { catalog.withLock { $0.sorted } }

    /// Every tool, by name, and the generation it is of: the same generation, the same tools.
    public var allWithGeneration: (tools: [ToolDefinition], generation: UInt64) {
        catalog.withLock { ($0.sorted, $0.generation) }
    }

    /// Every tool as `pincer tools list` shows it: name, description, JSON Schema, group, who
    /// registered it, and whether the host's own policy lets sessions be offered it at all.
    public func catalogJSON(hostPolicy: ToolPolicy) -> JSON {
        .array(all.map { tool in
            var members: [(String, JSON)] = [("name", .string(tool.name)), ("description", .string(tool.description)),
                                             ("group", JSON(tool.group)), ("owner", JSON(tool.owner ?? "host")),
                                             ("parameters", tool.parameters)]
            switch hostPolicy.decide(tool: tool.name, groupMembers: members(ofGroup:), holder: .host) {
            case .allowed: members.append(("hostPolicy", "allowed"))
            case .denied(let reason): members.append(("hostPolicy", .string(reason)))
            }
            if tool.group == SessionTools.group {
                members.append(("note", .string("a spawned session is offered it only when its own tools_allow names it or group:\(SessionTools.group)")))
            }
            return .object(members)
        })
    }

    public func members(ofGroup group: String) -> [String]? {
        let members = catalog.withLock { $0.sorted.filter { $0.group == group }.map(\.name) }
        return members.isEmpty ? nil : members
    }
}

/// Tools every host has. Small and side-effect free: they exist so the local
/// model can make real tool calls (and so steering has boundaries to land on).
enum BuiltinTools {
    static let all: [ToolDefinition] = [echo, sleep, clock]

    static let echo = ToolDefinition(
        name: "echo", description: "Returns the text it is given.",
        parameters: ["type": "object", "properties": ["text": ["type": "string"]]], group: "basic"
    ) { args, _ in
        args["text"]?.stringValue ?? ""
    }

    static let sleep = ToolDefinition(
        name: "sleep", description: "Waits for `ms` milliseconds (at most 10000).",
        parameters: ["type": "object", "properties": ["ms": ["type": "integer"]]], group: "basic"
    ) { args, context in
        guard let ms = args["ms"]?.wholeNumber, ms <= 10_000 else {
            throw ToolFailure("sleep needs a whole number of milliseconds from 0 to 10000 in 'ms'")
        }
        try context.pause(UInt64(ms) * 1_000_000)
        return "slept \(ms) ms"
    }

    static let clock = ToolDefinition(
        name: "clock", description: "The current time, in milliseconds since the Unix epoch.",
        parameters: ["type": "object"], group: "basic"
    ) { _, _ in
        String(WallClock.milliseconds())
    }
}
