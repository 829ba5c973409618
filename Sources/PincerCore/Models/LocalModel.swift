// The built-in deterministic model: the default provider, for demos and tests.
// It needs no network and always answers the same way, so behaviour around it
// (streaming, steering, tool policy, timeouts) is observable and testable.
//
// Its script, read from the user message that started the run:
//   @name            call tool `name` with {}          e.g. "@clock"
//   @name{json}      call tool `name` with that object e.g. @echo{"text":"hi"}
//   #fail            fail the turn with a model error
// It makes one tool call per turn, in order, then answers
//   "You said: <message without directives>." plus the tool results.
// Steering text that arrived since its previous turn is acknowledged first:
//   "Steering noted: <text>."
// Text streams one word per token, `tokenDelay` apart.

public struct LocalModel: ModelProvider {
    public let models: [ModelDescriptor]
    private let delays: [String: UInt64]

    /// The context windows the local models declare: one large, one small, so a plugin that sizes
    /// its prompts by the catalog can be tried against both without a network model.
    public static let contextWindows = ["local/scripted": 131_072, "local/instant": 8_192]

    /// - Parameter tokenDelayMs: the pause before each token of "local/scripted".
    public init(tokenDelayMs: Int) {
        models = [
            ModelDescriptor(id: "local/scripted", provider: "local",
                            description: "Deterministic scripted model; \(tokenDelayMs) ms per token",
                            supportsTools: true, streams: true, contextWindow: LocalModel.contextWindows["local/scripted"]),
            ModelDescriptor(id: "local/instant", provider: "local",
                            description: "The same script with no delay between tokens",
                            supportsTools: true, streams: true, contextWindow: LocalModel.contextWindows["local/instant"]),
        ]
        delays = ["local/scripted": UInt64(max(0, tokenDelayMs)) * 1_000_000, "local/instant": 0]
    }

    public func respond(to request: ModelRequest, context: TurnContext) throws -> ModelTurn {
        let turn = try LocalModel.plan(request.transcript, scratch: request.scratch)
        try stream(turn.text, model: request.model, context: context)
        return turn
    }

    /// The digest, streamed like any reply (so compaction takes time, as with a real model).
    public func summarize(_ messages: [Message], model: String, context: TurnContext) throws -> String {
        let summary = ModelSummary.digest(messages)
        try stream(summary, model: model, context: context)
        return summary
    }

    /// Emits `text` one word at a time, the model's token delay before each.
    private func stream(_ text: String, model: String, context: TurnContext) throws {
        let delay = delays[model] ?? 0
        for token in LocalModel.tokens(text) {
            if delay > 0 { try context.pause(delay) }
            try context.emit(token)
        }
    }

    /// The turn the script calls for, given the transcript so far. The run's message is
    /// parsed once, in its first turn, and where the script stands is kept in the run's
    /// scratch, so each turn reads only the messages added since the last one (all of them
    /// again only after compaction): a turn's work does not grow with the run.
    static func plan(_ transcript: [Message], scratch: RunScratch = RunScratch()) throws -> ModelTurn {
        guard let progress = Progress.advanced(scratch.value as? Progress, over: transcript) else {
            return ModelTurn(text: "Hello.", toolCalls: [])
        }
        scratch.value = progress
        let script = progress.script
        if script.fails { throw ModelFailure("the local model was asked to fail (#fail in the message)") }
        let unseenSteers = transcript[(progress.lastAssistant + 1)...].filter { $0.role == .steer }
        var text = unseenSteers.isEmpty ? "" : "Steering noted: " + unseenSteers.map(\.content).joined(separator: "; ") + ". "
        if progress.callsMade < script.calls.count {
            let call = script.calls[progress.callsMade]
            text += "Calling \(call.name)."
            return ModelTurn(text: text, toolCalls: [ToolCall(id: "call-\(progress.callsMade + 1)", name: call.name, arguments: call.arguments)])
        }
        text += "You said: \(script.text)."
        if !progress.results.isEmpty { text += " Tool results: " + progress.results.joined(separator: "; ") + "." }
        return ModelTurn(text: text, toolCalls: [])
    }

    /// Where a run's script stands: the run's message (at `start`), the tool calls its
    /// assistant turns have made, the tool results so far, and how much has been read.
    struct Progress: Sendable {
        let script: Script
        let start: Int
        /// The run's message's run id: reading on from `read` is right only while that
        /// message is still at `start`. A run only appends to the transcript, except
        /// compaction, which replaces what comes before the run's message and so moves it.
        let runId: String?
        var read: Int
        var callsMade = 0
        var lastAssistant: Int
        /// Each tool result read, as the final answer lists it.
        var results: [String] = []

        /// `kept` brought up to date with `transcript`: read on from where it stopped while
        /// the run's message is where it was; read again from the run's message otherwise.
        /// Nil when there is no user message.
        static func advanced(_ kept: Progress?, over transcript: [Message]) -> Progress? {
            var progress: Progress
            if let kept, kept.read <= transcript.count, transcript[kept.start].role == .user, transcript[kept.start].runId == kept.runId {
                progress = kept
            } else {
                guard let start = transcript.lastIndex(where: { $0.role == .user }) else { return nil }
                progress = Progress(script: kept?.script ?? Script(transcript[start].content), start: start,
                                    runId: transcript[start].runId, read: start + 1, lastAssistant: start)
            }
            for i in progress.read..<transcript.count {
                let message = transcript[i]
                switch message.role {
                case .assistant:
                    progress.callsMade += message.toolCalls.count
                    progress.lastAssistant = i
                case .tool:
                    progress.results.append("\(message.toolName ?? "?")\(message.isError ? " failed:" : " →") \(message.content)")
                default:
                    break
                }
            }
            progress.read = transcript.count
            return progress
        }
    }

    /// Words with their following space, so the concatenation is the text.
    static func tokens(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        for ch in text {
            current.append(ch)
            if ch == " " { out.append(current); current = "" }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    struct Script: Sendable {
        var calls: [(name: String, arguments: JSON)] = []
        var fails = false
        var text = ""

        init(_ message: String) {
            let chars = Array(message)
            var words: [String] = []
            var i = 0
            var word = ""
            func flushWord() { if !word.isEmpty { words.append(word); word = "" } }
            while i < chars.count {
                let atWordStart = i == 0 || chars[i - 1].isWhitespace
                if atWordStart, chars[i] == "@", i + 1 < chars.count, Script.isNameChar(chars[i + 1]) {
                    var j = i + 1
                    while j < chars.count, Script.isNameChar(chars[j]) { j += 1 }
                    let name = String(chars[(i + 1)..<j])
                    var arguments: JSON = [:]
                    if j < chars.count, chars[j] == "{", let end = Script.objectEnd(chars, from: j),
                       let parsed = try? JSON.parse(String(chars[j...end]))
                    {
                        arguments = parsed
                        j = end + 1
                    }
                    calls.append((name, arguments))
                    i = j
                    continue
                }
                if atWordStart, chars[i...].starts(with: Script.failDirective) {
                    fails = true
                    i += 5
                    continue
                }
                if chars[i].isWhitespace { flushWord() } else { word.append(chars[i]) }
                i += 1
            }
            flushWord()
            text = words.joined(separator: " ")
        }

        static let failDirective = Array("#fail")

        static func isNameChar(_ c: Character) -> Bool {
            c.isLetter || c.isNumber || c == "_" || c == "." || c == "-" || c == ":"
        }

        /// Index of the brace closing the object that opens at `start`.
        static func objectEnd(_ chars: [Character], from start: Int) -> Int? {
            var depth = 0
            var inString = false
            var escaped = false
            for k in start..<chars.count {
                let c = chars[k]
                if inString {
                    if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                    continue
                }
                if c == "\"" { inString = true } else if c == "{" { depth += 1 } else if c == "}" {
                    depth -= 1
                    if depth == 0 { return k }
                }
            }
            return nil
        }
    }
}
