// The OpenAI chat completions wire format as Codable types: a transcript and
// its tools as a request body, and a streamed (or whole) response assembled
// into a turn. Tool names travel in the form the wire allows and come back
// mapped to the host's names (see ToolNames).

import Foundation
import PincerCore

enum ChatCompletionsWire {
    /// POST <baseURL>/chat/completions.
    struct Request: Encodable {
        var model: String
        var messages: [Message]
        var stream: Bool
        /// Omitted when the session is offered no tools.
        var tools: [Tool]?
    }

    struct Message: Encodable {
        var role: String
        /// null for an assistant turn that only calls tools.
        var content: String?
        var toolCalls: [ToolCall]?
        /// A tool result's call; null when the transcript has none.
        var toolCallId: String??

        enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
            case toolCallId = "tool_call_id"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(role, forKey: .role)
            try container.encode(content, forKey: .content) // null stays on the wire
            try container.encodeIfPresent(toolCalls, forKey: .toolCalls)
            if let toolCallId { try container.encode(toolCallId, forKey: .toolCallId) }
        }
    }

    struct ToolCall: Encodable {
        var id: String
        var type = "function"
        var function: Function

        struct Function: Encodable {
            var name: String
            /// JSON text, as the wire carries it.
            var arguments: String
        }
    }

    struct Tool: Encodable {
        var type = "function"
        var function: Function

        struct Function: Encodable {
            var name: String
            var description: String
            /// JSON Schema of the arguments object.
            var parameters: JSON
        }
    }

    /// One event of a stream (`choices[].delta`), or a whole completion (`choices[].message`).
    struct Chunk: Decodable {
        var choices: [Choice]?
        /// A server's error in the stream: {"message": …} or a bare string.
        var error: JSON?

        struct Choice: Decodable {
            var delta: Delta?
            var message: Delta?
            var finishReason: String?

            enum CodingKeys: String, CodingKey {
                case delta, message
                case finishReason = "finish_reason"
            }
        }

        struct Delta: Decodable {
            var content: String?
            var toolCalls: [ToolCallDelta]?

            enum CodingKeys: String, CodingKey {
                case content
                case toolCalls = "tool_calls"
            }
        }

        /// A piece of a tool call: a stream sends its id and name first, its arguments in pieces.
        struct ToolCallDelta: Decodable {
            var index: Int?
            var id: String?
            var function: FunctionDelta?
        }

        struct FunctionDelta: Decodable {
            var name: String?
            var arguments: String?
        }
    }

    /// An error response's body: {"error": {"message": …}} or {"error": "…"}.
    struct ErrorBody: Decodable {
        var error: JSON?
    }

    /// The request body: keys sorted, so the same request is the same bytes.
    static func requestBody(model: String, transcript: [PincerCore.Message], tools: [OfferedTool], names: ToolNames,
                            stream: Bool) throws -> Data
    {
        let messages = transcript.map { m -> Message in
            switch m.role {
            case .system: return Message(role: "system", content: m.content)
            case .user: return Message(role: "user", content: m.content)
            // Steering reaches the model as the user speaking up mid-run.
            case .steer: return Message(role: "user", content: m.content)
            case .assistant:
                let calls = m.toolCalls.map {
                    ToolCall(id: $0.id, function: .init(name: names.wire($0.name), arguments: $0.arguments.description))
                }
                return Message(role: "assistant", content: m.content.isEmpty && !calls.isEmpty ? nil : m.content,
                               toolCalls: calls.isEmpty ? nil : calls)
            case .tool: return Message(role: "tool", content: m.content, toolCallId: .some(m.toolCallId))
            }
        }
        let offered = tools.map {
            Tool(function: .init(name: names.wire($0.name), description: $0.description, parameters: $0.parameters))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(Request(model: model, messages: messages, stream: stream, tools: offered.isEmpty ? nil : offered))
    }

    /// Decodes one event's data (or a whole completion); the failure says whether it was JSON at all.
    static func chunk(_ text: String) throws(ModelFailure) -> Chunk {
        do {
            return try JSONDecoder().decode(Chunk.self, from: Data(text.utf8))
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw ModelFailure("is not JSON (\(context.debugDescription))")
        } catch {
            throw ModelFailure("is not a chat completion chunk (\(error))")
        }
    }

    /// The message of an error body, or the body itself, cut short.
    static func errorMessage(_ body: [UInt8]) -> String {
        if let decoded = try? JSONDecoder().decode(ErrorBody.self, from: Data(body)), let error = decoded.error,
           let message = error["message"]?.stringValue ?? error.stringValue
        {
            return message
        }
        let text = String(decoding: body, as: UTF8.self)
        return text.isEmpty ? "(empty body)" : String(text.prefix(500))
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
        mutating func add(_ chunk: Chunk) throws(ModelFailure) -> String {
            if let error = chunk.error { throw ModelFailure("the stream carried an error: \(error["message"]?.stringValue ?? error.description)") }
            guard let choice = chunk.choices?.first else { return "" }
            if let reason = choice.finishReason { finishReason = reason }
            let delta = choice.delta ?? choice.message
            let piece = delta?.content ?? ""
            text += piece
            for (position, call) in (delta?.toolCalls ?? []).enumerated() {
                let index = call.index ?? position
                var entry = calls[index] ?? ("", "", "")
                if let id = call.id { entry.id = id }
                if let name = call.function?.name { entry.name += name }
                if let arguments = call.function?.arguments { entry.arguments += arguments }
                calls[index] = entry
            }
            return piece
        }

        func turn(names: ToolNames) throws(ModelFailure) -> ModelTurn {
            var toolCalls: [PincerCore.ToolCall] = []
            for index in calls.keys.sorted() {
                let call = calls[index]!
                guard !call.name.isEmpty else { throw ModelFailure("tool call \(index) in the response has no function name") }
                let arguments: JSON
                do { arguments = call.arguments.isEmpty ? .object([]) : try JSON.parse(call.arguments) } catch {
                    throw ModelFailure("the arguments of tool call '\(call.name)' are not JSON: \(error)")
                }
                toolCalls.append(PincerCore.ToolCall(id: call.id.isEmpty ? "call-\(index)" : call.id, name: names.real(call.name), arguments: arguments))
            }
            return ModelTurn(text: text, toolCalls: toolCalls)
        }
    }
}
