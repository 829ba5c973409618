// Who may do what (sessions.h, host.h): a session is its creator's, a plugin's
// the operator gave every session, and a plugin's its creator handed a
// metadata namespace on it; a plugin's sessions use the host's tools and its
// own unless the operator allows others'; a plugin chooses a model only with
// the operator's leave; a plugin reaches external agents (models "acp/…") only
// while the operator allows it, checked at every call (ExternalAgentGate: the
// one part that changes live, at SIGHUP). What it reads of a session is read
// under the engine's lock.

import Synchronization

public struct AccessPolicy: Sendable {
    /// Models whose sessions an external agent runs (PincerACP).
    public static let externalAgentPrefix = "acp/"

    let fullSessionAccess: Set<String>
    let otherPluginsTools: Set<String>
    let modelOverrides: [String: [String]?]
    public let externalAgents: ExternalAgentGate

    init(_ config: EngineConfig) {
        fullSessionAccess = config.fullSessionAccess
        otherPluginsTools = config.otherPluginsTools
        modelOverrides = config.modelOverrides
        externalAgents = ExternalAgentGate(allowed: config.allowAcpSpawn, deniedPlugins: config.acpSpawnDenied)
    }

    /// Why `caller` may not touch a session on `model` now (an external agent's, for a plugin
    /// the operator did not allow), or nil.
    func externalAgentRefusal(model: String, by caller: Caller) -> String? {
        guard case .plugin(let id) = caller, model.hasPrefix(Self.externalAgentPrefix) else { return nil }
        return externalAgents.refusal(for: id)
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

    /// Refuses a model a plugin did not get the operator's leave to choose. An external agent
    /// needs the ACP gate's leave instead (plugins.allowAcpSpawn).
    func checkModelOverride(_ model: String?, defaultModel: String, by caller: Caller) throws(EngineError) {
        if let model, let refusal = externalAgentRefusal(model: model, by: caller) { throw EngineError(.denied, refusal) }
        guard case .plugin(let id) = caller, let model, model != defaultModel, !model.hasPrefix(Self.externalAgentPrefix) else { return }
        guard let grant = modelOverrides[id] else {
            throw EngineError(.denied, "plugin '\(id)' may not choose the model ('\(model)'): set plugins.entries.\(id).allowModelOverride = true")
        }
        if let allowed = grant, !allowed.contains(model) {
            throw EngineError(.denied, "model '\(model)' is not in plugins.entries.\(id).allowedModels (\(allowed.joined(separator: ", ")))")
        }
    }
}

/// Which plugins may use external agents: plugins.allowAcpSpawn (default false), narrowed by
/// plugins.entries.<id>.allowAcpSpawn = false. Read at every call on an agent's session, and
/// replaced when the operator's config is re-read, so a call follows the config as it is now.
public final class ExternalAgentGate: Sendable {
    private let value: Mutex<(allowed: Bool, denied: Set<String>)>

    init(allowed: Bool, deniedPlugins: Set<String>) { value = Mutex((allowed, deniedPlugins)) }

    public func update(allowed: Bool, deniedPlugins: Set<String>) { value.withLock { $0 = (allowed, deniedPlugins) } }

    /// Why plugin `id` may not use external agents now, naming the setting to change; nil when it may.
    public func refusal(for id: String) -> String? {
        let (allowed, denied) = value.withLock { $0 }
        if !allowed {
            return "plugin '\(id)' may not use external agents (ACP): they are off for plugins; set plugins.allowAcpSpawn = true in the operator config"
        }
        if denied.contains(id) {
            return "plugin '\(id)' may not use external agents (ACP): plugins.entries.\(id).allowAcpSpawn is false"
        }
        return nil
    }
}
