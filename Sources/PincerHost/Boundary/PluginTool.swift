// A tool a plugin registered, seen from the engine: a Swift closure that
// builds the C call, runs the plugin's invoke (counted as a running callback),
// takes ownership of what it returns, and turns every
// failure (an error code, NULL, text that is not UTF-8) into an error result
// the model sees.

import CPincer
import PincerCore

struct PluginTool: Sendable {
    let plugin: PluginContext
    let registration: Registration
    let name: String
    let invoke: pincer_tool_invoke

    static let outputLimit = Int(PINCER_TOOL_RESULT_MAX_BYTES)

    /// [a-z][a-z0-9_-]*: a plugin id, a tool's local name, a group.
    static func isValidWord(_ word: Substring.UTF8View, max: Int) -> Bool {
        guard (1...max).contains(word.count), let first = word.first, (0x61...0x7A).contains(first) else { return false }
        return word.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2D }
    }

    /// Why `name` is not a valid "<plugin-id>.<name>" (a tool's or a group's) for plugin `id`, or nil.
    static func nameProblem(_ name: String, plugin id: String, field: String) -> String? {
        let prefix = id + "."
        guard name.hasPrefix(prefix) else { return "\(field) '\(name)' must start with the plugin's id and a dot ('\(prefix)')" }
        guard isValidWord(name.dropFirst(prefix.count).utf8, max: 31), name.utf8.count <= Int(PINCER_TOOL_NAME_MAX_BYTES) else {
            return "\(field) '\(name)': after '\(prefix)' comes 1 to 31 characters of [a-z0-9_-] starting with a letter"
        }
        return nil
    }

    func call(_ arguments: JSON, _ call: ToolCallContext) throws -> String {
        // Ids come from the model: one a C string cannot carry is refused, never cut short.
        for (field, value) in [("tool call id", call.toolCallId), ("session key", call.sessionKey)] where value.utf8.contains(0) {
            throw ToolFailure("the \(field) contains U+0000, which a NUL-terminated string cannot carry")
        }
        guard registration.enter(servingRun: call.runId) else { throw ToolFailure("plugin '\(plugin.id)' is stopping; its tool '\(name)' is withdrawn") }
        defer { registration.exit(servingRun: call.runId) }
        var output: UnsafeMutablePointer<CChar>?
        let context = registration.context
        let code: pincer_result = call.sessionKey.withCString { sessionKey in
            call.sessionId.withCString { sessionId in
                call.runId.withCString { runId in
                    call.toolCallId.withCString { toolCallId in
                        name.withCString { toolName in
                            arguments.description.withCString { argumentsJSON in
                                plugin.engine.config.workspaceDir.withCString { workspaceDir in
                                    var request = pincer_tool_call(
                                        struct_size: UInt32(MemoryLayout<pincer_tool_call>.size), session_key: sessionKey,
                                        session_id: sessionId, run_id: runId, tool_call_id: toolCallId, tool_name: toolName,
                                        arguments_json: argumentsJSON, workspace_dir: workspaceDir)
                                    return invoke(context, &request, &output)
                                }
                            }
                        }
                    }
                }
            }
        }
        let text: String?
        do { text = try CText.take(output, "the text plugin '\(plugin.id)' returned from tool '\(name)'", max: PluginTool.outputLimit) } catch {
            plugin.diagnostics?.record(.badToolAnswer, "\(name): \(error.message)")
            throw ToolFailure(error.message)
        }
        if !ResultCode.isKnown(code) { plugin.diagnostics?.record(.badToolAnswer, "\(name): returned \(ResultCode.name(code))") }
        guard code == ResultCode.ok else {
            throw ToolFailure("plugin '\(plugin.id)' reported \(ResultCode.name(code))\(text.map { ": \($0)" } ?? "")")
        }
        return text ?? ""
    }
}
