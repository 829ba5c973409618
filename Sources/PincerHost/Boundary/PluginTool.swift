// A tool a plugin registered, seen from the engine: a Swift closure that
// builds the C call, runs the plugin's invoke, takes ownership of what it
// returns, and turns every failure (an error code, NULL, text that is not
// UTF-8) into an error result the model sees.

import CPincer
import PincerCore

#if canImport(Glibc)
import Glibc
#endif

struct PluginTool: @unchecked Sendable {
    let plugin: PluginContext
    let name: String
    let invoke: pincer_tool_invoke
    /// The plugin's context pointer, handed back unchanged (the plugin owns it).
    let context: UnsafeMutableRawPointer?

    static let outputLimit = 16 << 20

    static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count), (0x61...0x7A).contains(bytes[0]) else { return false }
        return bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    }

    func call(_ arguments: JSON, _ call: ToolCallContext) throws -> String {
        guard plugin.phase == .live else { throw ToolFailure("plugin '\(plugin.id)' has shut down") }
        var output: UnsafeMutablePointer<CChar>?
        let code: pincer_result = call.sessionKey.withCString { sessionKey in
            call.sessionId.withCString { sessionId in
                call.runId.withCString { runId in
                    call.toolCallId.withCString { toolCallId in
                        name.withCString { toolName in
                            arguments.description.withCString { argumentsJSON in
                                var request = pincer_tool_call(
                                    struct_size: UInt32(MemoryLayout<pincer_tool_call>.size), session_key: sessionKey,
                                    session_id: sessionId, run_id: runId, tool_call_id: toolCallId, tool_name: toolName,
                                    arguments_json: argumentsJSON)
                                return invoke(context, &request, &output)
                            }
                        }
                    }
                }
            }
        }
        let text: String?
        do { text = try CText.take(output, "the text plugin '\(plugin.id)' returned from tool '\(name)'", max: PluginTool.outputLimit) } catch {
            throw ToolFailure(error.message)
        }
        guard code == ResultCode.ok else {
            throw ToolFailure("plugin '\(plugin.id)' reported \(ResultCode.name(code))\(text.map { ": \($0)" } ?? "")")
        }
        return text ?? ""
    }
}
