// What the agent loop needs from a model: given the session so far, produce
// one turn (text, streamed token by token, and any tool calls). Providers
// stream through the TurnContext, which also carries cancellation.

public struct ModelDescriptor: Equatable, Sendable {
    public var id: String
    public var provider: String
    public var description: String
    public var supportsTools: Bool
    public var streams: Bool
    /// How many tokens the model reads at most (prompt and reply), when known: plugins size
    /// their prompts by it. Set per model in the operator's providers[]; local models declare theirs.
    public var contextWindow: Int?

    public init(id: String, provider: String, description: String, supportsTools: Bool, streams: Bool, contextWindow: Int? = nil) {
        self.id = id
        self.provider = provider
        self.description = description
        self.supportsTools = supportsTools
        self.streams = streams
        self.contextWindow = contextWindow
    }

    var json: JSON {
        ["id": .string(id), "provider": .string(provider), "description": .string(description),
         "tools": .bool(supportsTools), "streaming": .bool(streams), "contextWindow": contextWindow.map { JSON($0) } ?? .null]
    }
}

/// The session a turn belongs to, for a provider that keeps something per session (an
/// external agent's process: PincerACP).
public struct TurnSession: Sendable {
    public var key: String
    public var id: String
    /// The directory the host's sessions work in (engine.workspaceDir).
    public var workspaceDir: String
    /// Why the session may not use a tool of this name (the host's policy, then the
    /// session's), or nil when it may.
    public var toolRefusal: @Sendable (String) -> String?
    /// The before_tool_call gates for a call the provider's own agent makes, in `workspace` (the
    /// directory the agent works in, which the hooks are told): a block's reason, or nil to go
    /// on. A gate that patches blocks it (such a call cannot be rewritten).
    public var toolGate: @Sendable (_ name: String, _ callId: String, _ arguments: JSON, _ workspace: String) -> String?

    public init(key: String, id: String, workspaceDir: String, toolRefusal: @escaping @Sendable (String) -> String?,
                toolGate: @escaping @Sendable (_ name: String, _ callId: String, _ arguments: JSON, _ workspace: String) -> String? = { _, _, _, _ in nil }) {
        (self.key, self.id, self.workspaceDir, self.toolRefusal, self.toolGate) = (key, id, workspaceDir, toolRefusal, toolGate)
    }
}

public struct ModelRequest: Sendable {
    public var model: String
    public var systemPrompt: String?
    public var transcript: [Message]
    /// The turn's session (the engine always sets it; nil only in requests built by hand).
    public var session: TurnSession?
    /// Tools the session's policy allows, as the model is told about them (the policy
    /// still decides again where each call executes).
    public var tools: [OfferedTool]
    /// What the provider keeps between the turns of this run (the run owns it).
    public var scratch: RunScratch

    public init(model: String, systemPrompt: String?, transcript: [Message], tools: [OfferedTool], scratch: RunScratch = RunScratch()) {
        self.model = model
        self.systemPrompt = systemPrompt
        self.transcript = transcript
        self.tools = tools
        self.scratch = scratch
    }
}

/// State a provider derives once per run and reuses in its later turns (the local model's
/// parsed script). @unchecked: only the run's own worker touches it, one turn at a time.
public final class RunScratch: @unchecked Sendable {
    public var value: (any Sendable)?

    public init() {}
}

public struct OfferedTool: Sendable, Equatable {
    public var name: String
    public var description: String
    /// JSON Schema of the arguments object.
    public var parameters: JSON
}

public struct ModelTurn: Sendable, Equatable {
    public var text: String
    public var toolCalls: [ToolCall]

    public init(text: String, toolCalls: [ToolCall]) {
        self.text = text
        self.toolCalls = toolCalls
    }
}

/// Hooks the provider uses while producing a turn. emit and pause throw when the run
/// was cancelled or timed out, which ends the turn at once.
public struct TurnContext: Sendable {
    /// Appends streamed text to the run.
    public var emit: @Sendable (String) throws -> Void
    /// Sleeps up to the given nanoseconds.
    public var pause: @Sendable (UInt64) throws -> Void
    /// For a provider that waits on I/O instead of pausing: calls the handler whenever the run
    /// may have to stop (asked to stop: cancelled, its session deleted, the host stopping; it
    /// may be called at other changes too), until the returned function withdraws it. The
    /// handler only wakes the waiter, which calls pause(0) to learn whether the run must end.
    public var onStop: @Sendable (@escaping @Sendable () -> Void) -> @Sendable () -> Void
    /// When the run times out (MonotonicClock nanoseconds): a waiting provider wakes by then
    /// and calls pause(0), which throws the timeout.
    public var deadlineNs: UInt64
    /// Adds an event to the run's record (and tells run_event observers): what a provider that
    /// works on its own (an external agent's tool calls, plans) did during the turn.
    public var record: @Sendable (RunEvent.Kind, JSON) -> Void

    public init(emit: @escaping @Sendable (String) throws -> Void, pause: @escaping @Sendable (UInt64) throws -> Void,
                onStop: @escaping @Sendable (@escaping @Sendable () -> Void) -> @Sendable () -> Void, deadlineNs: UInt64,
                record: @escaping @Sendable (RunEvent.Kind, JSON) -> Void = { _, _ in })
    {
        self.emit = emit
        self.pause = pause
        self.onStop = onStop
        self.deadlineNs = deadlineNs
        self.record = record
    }
}

public protocol ModelProvider: Sendable {
    var models: [ModelDescriptor] { get }
    func respond(to request: ModelRequest, context: TurnContext) throws -> ModelTurn
    /// A summary of `messages`, which compaction puts in their place.
    func summarize(_ messages: [Message], model: String, context: TurnContext) throws -> String
    /// Releases what the provider holds (connections, their threads); the engine that owns it
    /// calls it once its runs have ended, maybe more than once. No turn starts after it.
    func shutdown()
    /// The session was deleted: what the provider keeps for it can go.
    func sessionEnded(_ sessionKey: String)
    /// Where the provider's own lines go (an external agent's stderr): the engine's log.
    func attach(log: @escaping @Sendable (String) -> Void)
}

extension ModelProvider {
    public func shutdown() {}
    public func sessionEnded(_ sessionKey: String) {}
    public func attach(log: @escaping @Sendable (String) -> Void) {}

    /// A plain digest: what was asked and answered, each cut short. Providers
    /// with a real model may ask it instead.
    public func summarize(_ messages: [Message], model: String, context: TurnContext) throws -> String {
        ModelSummary.digest(messages)
    }
}

enum ModelSummary {
    static func digest(_ messages: [Message]) -> String {
        let asked = messages.filter { $0.role == .user }.map { String($0.content.prefix(80)) }
        let answered = messages.filter { $0.role == .assistant && $0.toolCalls.isEmpty }.map { String($0.content.prefix(80)) }
        return "Summary of \(messages.count) earlier messages. Asked: \(asked.joined(separator: " | ")). Answered: \(answered.joined(separator: " | "))."
    }
}

public struct ModelFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Every model the host can run, by id, and which one is the default.
public struct ModelCatalog: Sendable {
    public let providers: [any ModelProvider]
    public let defaultModel: String

    public init(providers: [any ModelProvider], defaultModel: String) throws(EngineError) {
        self.providers = providers
        self.defaultModel = defaultModel
        guard resolve(defaultModel) != nil else {
            throw EngineError(.unsupported, "default model '\(defaultModel)' is not in the catalog (\(ids.joined(separator: ", ")))")
        }
    }

    public var descriptors: [ModelDescriptor] { providers.flatMap(\.models) }
    public var ids: [String] { descriptors.map(\.id) }

    public func resolve(_ id: String) -> (any ModelProvider)? {
        providers.first { $0.models.contains { $0.id == id } }
    }

    var json: JSON {
        ["default": .string(defaultModel), "models": .array(descriptors.map(\.json))]
    }
}
