// The OpenAI chat completions wire format: a transcript and its tools as a
// request body, and a streamed (or whole) response assembled into a turn.
// Tool names travel in the form the wire allows and come back mapped to the
// host's names (see ToolNames).

enum ChatCompletionsWire {
    static func requestBody(model: String, transcript: [Message], tools: [OfferedTool], names: ToolNames, stream: Bool) -> JSON {
        var messages: [JSON] = []
        for m in transcript {
            switch m.role {
            case .system:
                messages.append(["role": "system", "content": .string(m.content)])
            case .user:
                messages.append(["role": "user", "content": .string(m.content)])
            case .steer:
                // Steering reaches the model as the user speaking up mid-run.
                messages.append(["role": "user", "content": .string(m.content)])
            case .assistant:
                var members: [(String, JSON)] = [("role", "assistant"), ("content", m.content.isEmpty && !m.toolCalls.isEmpty ? .null : .string(m.content))]
                if !m.toolCalls.isEmpty {
                    members.append(("tool_calls", .array(m.toolCalls.map { call in
                        ["id": .string(call.id), "type": "function",
                         "function": ["name": .string(names.wire(call.name)), "arguments": .string(call.arguments.description)]]
                    })))
                }
                messages.append(.object(members))
            case .tool:
                messages.append(["role": "tool", "tool_call_id": JSON(m.toolCallId), "content": .string(m.content)])
            }
        }
        var body: [(String, JSON)] = [("model", .string(model)), ("messages", .array(messages)), ("stream", .bool(stream))]
        if !tools.isEmpty {
            body.append(("tools", .array(tools.map { tool in
                ["type": "function", "function": ["name": .string(names.wire(tool.name)), "description": .string(tool.description),
                                                  "parameters": tool.parameters]]
            })))
        }
        return .object(body)
    }

    /// Tool names as the wire allows them ([a-zA-Z0-9_-], at most 64), for one request:
    /// "c_sample.greet" goes out as "c_sample_greet", and a clash gets a suffix ("_2").
    struct ToolNames {
        private var wireByReal: [String: String] = [:]
        private var realByWire: [String: String] = [:]

        init(_ tools: [OfferedTool]) {
            for tool in tools {
                var wire = ToolNames.sanitize(tool.name), n = 2
                while realByWire[wire] != nil {
                    wire = String(ToolNames.sanitize(tool.name).prefix(60)) + "_\(n)"
                    n += 1
                }
                wireByReal[tool.name] = wire
                realByWire[wire] = tool.name
            }
        }

        func wire(_ real: String) -> String { wireByReal[real] ?? ToolNames.sanitize(real) }
        func real(_ wire: String) -> String { realByWire[wire] ?? wire }

        static func sanitize(_ name: String) -> String {
            String(String(name.unicodeScalars.map { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") ? Character($0) : "_" }).prefix(64))
        }
    }

    /// Builds a turn from stream chunks (or one whole completion).
    struct TurnAssembler {
        private(set) var text = ""
        private var calls: [Int: (id: String, name: String, arguments: String)] = [:]
        private(set) var finishReason: String?

        /// Adds one chunk; returns the text it streamed (for the run's text deltas).
        mutating func add(chunk: JSON) throws(ModelFailure) -> String {
            if let error = chunk["error"] { throw ModelFailure("the stream carried an error: \(error["message"]?.stringValue ?? error.description)") }
            guard let choice = chunk["choices"]?.arrayValue?.first else { return "" }
            if let reason = choice["finish_reason"]?.stringValue { finishReason = reason }
            let delta = choice["delta"] ?? choice["message"] ?? .object([])
            let piece = delta["content"]?.stringValue ?? ""
            text += piece
            for (position, call) in (delta["tool_calls"]?.arrayValue ?? []).enumerated() {
                let index = call["index"]?.wholeNumber ?? position
                var entry = calls[index] ?? ("", "", "")
                if let id = call["id"]?.stringValue { entry.id = id }
                if let name = call["function"]?["name"]?.stringValue { entry.name += name }
                if let arguments = call["function"]?["arguments"]?.stringValue { entry.arguments += arguments }
                calls[index] = entry
            }
            return piece
        }

        func turn(names: ToolNames) throws(ModelFailure) -> ModelTurn {
            var toolCalls: [ToolCall] = []
            for index in calls.keys.sorted() {
                let call = calls[index]!
                guard !call.name.isEmpty else { throw ModelFailure("tool call \(index) in the response has no function name") }
                let arguments: JSON
                do { arguments = call.arguments.isEmpty ? .object([]) : try JSON.parse(call.arguments) } catch {
                    throw ModelFailure("the arguments of tool call '\(call.name)' are not JSON: \(error)")
                }
                toolCalls.append(ToolCall(id: call.id.isEmpty ? "call-\(index)" : call.id, name: names.real(call.name), arguments: arguments))
            }
            return ModelTurn(text: text, toolCalls: toolCalls)
        }
    }
}
