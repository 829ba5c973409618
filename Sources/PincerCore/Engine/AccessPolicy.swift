// Who may do what (sessions.h, host.h): a session is its creator's, a plugin's
// the operator gave every session, and a plugin's its creator handed a
// metadata namespace on it; a plugin's sessions use the host's tools and its
// own unless the operator allows others'; a plugin chooses a model only with
// the operator's leave. Reads the operator's config only, so it has no state;
// what it reads of a session is read under the engine's lock.

public struct AccessPolicy: Sendable {
    let fullSessionAccess: Set<String>
    let otherPluginsTools: Set<String>
    let modelOverrides: [String: [String]?]

    init(_ config: EngineConfig) {
        fullSessionAccess = config.fullSessionAccess
        otherPluginsTools = config.otherPluginsTools
        modelOverrides = config.modelOverrides
    }

    /// Whether `caller` may use sessions it did not create.
    public func hasFullSessionAccess(_ caller: Caller) -> Bool {
        switch caller {
        case .operator: return true
        case .plugin(let id): return fullSessionAccess.contains(id)
        }
    }

    /// Whether `caller` may use the session: its creator, a holder of a metadata namespace on
    /// it (handing a plugin a namespace shares the session with it), or one with full access.
    func mayUse(_ session: Session, by caller: Caller) -> Bool {
        if session.owner == caller || hasFullSessionAccess(caller) { return true }
        if case .plugin(let id) = caller { return session.metadata[id] != nil }
        return false
    }

    /// Whether `caller` may reach the run: it started it, or may use its session.
    func mayReach(_ run: Run, in session: Session?, by caller: Caller) -> Bool {
        run.owner == caller || hasFullSessionAccess(caller) || session.map { mayUse($0, by: caller) } ?? false
    }

    /// Why a session of `owner` may not use `tool` because another plugin registered it, or nil.
    func otherPluginsToolRefusal(_ tool: ToolDefinition, for owner: Caller) -> String? {
        guard case .plugin(let id) = owner, let toolOwner = tool.owner, toolOwner != id, !otherPluginsTools.contains(id) else { return nil }
        return "tool '\(tool.name)' belongs to plugin '\(toolOwner)'; sessions of plugin '\(id)' may use only the host's tools and its own (set plugins.entries.\(id).useOtherPluginsTools = true to allow)"
    }

    /// Refuses a spawn whose allow list names, exactly, a tool the caller may not add to its sessions.
    func checkNamedTools(_ policy: ToolPolicy, in tools: ToolRegistry, by caller: Caller) throws(EngineError) {
        for name in policy.allow {
            if let tool = tools.tool(named: name), let reason = otherPluginsToolRefusal(tool, for: caller) {
                throw EngineError(.denied, "tools_allow names \(reason)")
            }
        }
    }

    /// Refuses a model a plugin did not get the operator's leave to choose.
    func checkModelOverride(_ model: String?, defaultModel: String, by caller: Caller) throws(EngineError) {
        guard case .plugin(let id) = caller, let model, model != defaultModel else { return }
        guard let grant = modelOverrides[id] else {
            throw EngineError(.denied, "plugin '\(id)' may not choose the model ('\(model)'): set plugins.entries.\(id).allowModelOverride = true")
        }
        if let allowed = grant, !allowed.contains(model) {
            throw EngineError(.denied, "model '\(model)' is not in plugins.entries.\(id).allowedModels (\(allowed.joined(separator: ", ")))")
        }
    }
}
