// Size limits on what callers hand the engine, one place for each (the
// headers' PINCER_MAX_* macros equal these: LimitsTests). A caller past one
// gets PINCER_ERR_INVALID_ARGUMENT or PINCER_ERR_LIMIT naming the field and
// the limit; nothing is cut silently.

enum InputLimits {
    static let messageBytes = 1 << 20
    static let systemPromptBytes = 256 << 10
    static let labelBytes = 256
    static let patterns = 128
    static let patternBytes = 256
    static let metadataBytes = 64 << 10
    static let metadataNamespaces = 16
    static let queuedRuns = 16
    static let queuedMessageBytes = 16 << 20
    static let timeoutSeconds = 7 * 24 * 3600

    /// A new session's spec, within every limit, naming a model the catalog has.
    static func check(_ spec: SessionSpec, catalog: ModelCatalog) throws(EngineError) {
        try check(spec.message, "message", max: messageBytes, required: true)
        try check(spec.systemPrompt, "system_prompt", max: systemPromptBytes)
        try check(spec.label, "label", max: labelBytes)
        for (field, list) in [("tools_allow", spec.toolPolicy.allow), ("tools_deny", spec.toolPolicy.deny)] {
            if list.count > patterns { throw EngineError(.invalidArgument, "\(field) has \(list.count) patterns; at most \(patterns)") }
            for (i, p) in list.enumerated() { try check(p, "\(field)[\(i)]", max: patternBytes, required: true) }
        }
        if let model = spec.model, catalog.resolve(model) == nil {
            throw EngineError(.unsupported, "model '\(model)' is not in the catalog (\(catalog.ids.joined(separator: ", ")))")
        }
        if let t = spec.timeoutSeconds, t < 0 || t > timeoutSeconds {
            throw EngineError(.invalidArgument, "timeout_seconds is \(t); it must be 0 (the default) to \(timeoutSeconds)")
        }
        for (namespace, value) in spec.metadata { try checkMetadata(value, "metadata_json.\(namespace)") }
    }

    /// A metadata namespace's value: a JSON object of at most `metadataBytes`.
    static func checkMetadata(_ value: JSON, _ field: String) throws(EngineError) {
        guard case .object = value else { throw EngineError(.invalidArgument, "\(field) must be a JSON object, not a \(value.typeName)") }
        if value.description.utf8.count > metadataBytes { throw EngineError(.invalidArgument, "\(field) is over \(metadataBytes) bytes") }
    }

    static func check(_ value: String?, _ field: String, max: Int, required: Bool = false) throws(EngineError) {
        guard let value else {
            if required { throw EngineError(.invalidArgument, "\(field) is required") }
            return
        }
        if required, value.isEmpty { throw EngineError(.invalidArgument, "\(field) is empty") }
        if value.utf8.count > max { throw EngineError(.invalidArgument, "\(field) is \(value.utf8.count) bytes; at most \(max)") }
    }
}
