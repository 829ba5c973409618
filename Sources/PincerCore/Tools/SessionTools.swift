// The session tools: what a session's model may do beyond its own
// conversation — spawn a child session, steer a session, call a read-only
// gateway method. Each acts with the rights of the session's owner (a child
// belongs to the same owner, counts against the same spawn guards and passes
// the same hooks). The child's tool policy can only narrow its parent's.
// A spawned session (by a plugin or another session) may use these tools only
// when its own allow list names them; the agent loop enforces that.

enum SessionTools {
    static let group = "sessions"
    static let names: Set<String> = ["sessions_spawn", "sessions_steer", "gateway"]

    static func all(for engine: Engine) -> [ToolDefinition] {
        [
            ToolDefinition(
                name: "sessions_spawn",
                description: "Starts a child session with its own first message; answers its session key and run id at once.",
                parameters: ["type": "object", "required": ["message"], "properties": [
                    "message": ["type": "string"], "systemPrompt": ["type": "string"], "label": ["type": "string"],
                    "toolsAllow": ["type": "array", "items": ["type": "string"]],
                    "toolsDeny": ["type": "array", "items": ["type": "string"]]]],
                group: group
            ) { [weak engine] args, call in
                guard let engine else { throw ToolFailure("the host is shutting down") }
                let child = try engine.spawnChild(of: call.sessionKey, arguments: args)
                return JSON.object([("sessionKey", .string(child.sessionKey)), ("runId", .string(child.runId))]).description
            },
            ToolDefinition(
                name: "sessions_steer",
                description: "Sends text to a streaming session, delivered at its next tool-call boundary.",
                parameters: ["type": "object", "required": ["sessionKey", "text"], "properties": [
                    "sessionKey": ["type": "string"], "text": ["type": "string"]]],
                group: group
            ) { [weak engine] args, call in
                guard let engine else { throw ToolFailure("the host is shutting down") }
                guard let key = args["sessionKey"]?.stringValue, let text = args["text"]?.stringValue else {
                    throw ToolFailure("sessions_steer needs the strings 'sessionKey' and 'text'")
                }
                let outcome = try engine.steer(sessionKey: key, text: text, by: try engine.owner(of: call.sessionKey))
                return "\(outcome)"
            },
            ToolDefinition(
                name: "gateway",
                description: "Calls a read-only gateway method (\(GatewayMethods.pluginAllowlist.joined(separator: ", "))).",
                parameters: ["type": "object", "required": ["method"], "properties": ["method": ["type": "string"], "params": ["type": "object"]]],
                group: group
            ) { [weak engine] args, _ in
                guard let engine else { throw ToolFailure("the host is shutting down") }
                guard let method = args["method"]?.stringValue else { throw ToolFailure("gateway needs the string 'method'") }
                return try engine.gatewayRequest(method: method, params: args["params"])
            },
        ]
    }

    /// The spec of a child session, from sessions_spawn's arguments.
    static func childSpec(_ args: JSON) throws -> SessionSpec {
        guard let message = args["message"]?.stringValue else { throw ToolFailure("sessions_spawn needs the string 'message'") }
        func patterns(_ key: String) throws -> [String] {
            guard let value = args[key] else { return [] }
            guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw ToolFailure("sessions_spawn's '\(key)' must be an array of strings")
            }
            return items.compactMap(\.stringValue)
        }
        return SessionSpec(message: message, systemPrompt: args["systemPrompt"]?.stringValue,
                           toolPolicy: ToolPolicy(allow: try patterns("toolsAllow"), deny: try patterns("toolsDeny")),
                           label: args["label"]?.stringValue)
    }
}
