// The JSON a hook receives at each point, and the patches a gate may hand
// back, checked member by member: a patch with an unknown member or a wrong
// type is refused as a whole (and the gate then blocks), never half applied.

enum HookPayloads {
    /// before_session_create / session_created: the session as it will be written.
    static func session(_ spec: SessionSpec, model: String, timeoutSeconds: Int, metadata: JSON?) -> JSON {
        .object([
            ("message", .string(spec.message)), ("systemPrompt", JSON(spec.systemPrompt)),
            ("toolPolicy", spec.toolPolicy.json), ("model", .string(model)), ("label", JSON(spec.label)),
            ("timeoutSeconds", JSON(timeoutSeconds)), ("metadata", metadata ?? .object([])),
            ("parentSessionKey", JSON(spec.parentKey)),
        ])
    }

    /// Applies a before_session_create patch from `plugin`.
    static func applySessionPatch(_ patch: JSON, by plugin: String, to spec: inout SessionSpec,
                                  metadata: inout [String: JSON]) throws(EngineError)
    {
        var patched = spec
        var ownMetadata: JSON?
        for (key, value) in try members(of: patch, allowed: ["systemPrompt", "toolsAllow", "toolsDeny", "metadata"]) {
            switch key {
            case "systemPrompt":
                if case .null = value { patched.systemPrompt = nil; continue }
                guard let prompt = value.stringValue else { throw wrongType(key, "a string or null", value) }
                try InputLimits.check(prompt, "systemPrompt", max: InputLimits.systemPromptBytes)
                patched.systemPrompt = prompt
            case "toolsAllow", "toolsDeny":
                let patterns = try strings(value, key)
                // Narrow only: an allow list joins the policies every tool must pass; a deny list adds.
                patched.toolPolicy = key == "toolsAllow" ? patched.toolPolicy.restrictingAllow(to: patterns) : patched.toolPolicy.addingDeny(patterns)
            default:
                try InputLimits.checkMetadata(value, "the patch's 'metadata'")
                ownMetadata = value
            }
        }
        spec = patched
        if let ownMetadata { metadata[plugin] = ownMetadata }
    }

    /// Applies a before_tool_call patch: new arguments for the tool.
    static func applyToolCallPatch(_ patch: JSON, to arguments: inout JSON) throws(EngineError) {
        for (key, value) in try members(of: patch, allowed: ["arguments"]) where key == "arguments" {
            guard case .object = value else { throw wrongType(key, "an object", value) }
            arguments = value
        }
    }

    private static func members(of patch: JSON, allowed: [String]) throws(EngineError) -> [(String, JSON)] {
        guard let members = patch.objectValue else {
            throw EngineError(.invalidArgument, "the patch must be a JSON object, not a \(patch.typeName)")
        }
        for (key, _) in members where !allowed.contains(key) {
            throw EngineError(.invalidArgument, "the patch has member '\(key)'; allowed here: \(allowed.joined(separator: ", "))")
        }
        return members
    }

    private static func strings(_ value: JSON, _ key: String) throws(EngineError) -> [String] {
        guard let items = value.arrayValue else { throw wrongType(key, "an array of strings", value) }
        var patterns: [String] = []
        for item in items {
            guard let s = item.stringValue, !s.isEmpty else { throw wrongType(key, "an array of non-empty strings", value) }
            try InputLimits.check(s, key, max: InputLimits.patternBytes)
            patterns.append(s)
        }
        if patterns.count > InputLimits.patterns { throw EngineError(.invalidArgument, "\(key) has more than \(InputLimits.patterns) patterns") }
        return patterns
    }

    private static func wrongType(_ key: String, _ expected: String, _ value: JSON) -> EngineError {
        EngineError(.invalidArgument, "the patch's '\(key)' must be \(expected), not a \(value.typeName)")
    }
}
