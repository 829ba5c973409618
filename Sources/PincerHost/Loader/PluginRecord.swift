// What the loader found in one .so: who it says it is and whether it loaded.
// This is what `pincer plugins list` prints and what the status summary lists.

import PincerCore

public struct PluginRecord: Sendable, Equatable {
    public enum State: String, Sendable {
        case loaded, refused
    }

    public var file: String
    public var state: State
    /// Why it was refused; nil when loaded.
    public var reason: String?
    public var id: String?
    public var name: String?
    public var version: String?
    public var description: String?
    /// What the descriptor says it is written in ("c", "c++", "swift", "rust"), and the SDK that built it.
    public var language: String?
    public var sdk: String?
    /// "1.0.0": the ABI the plugin was compiled against, once read.
    public var abiVersion: String?
    /// Capabilities granted (requested ∩ allowed by the operator).
    public var capabilities: [String] = []
    /// Requested capability ids this host does not know (ignored, with a warning).
    public var unknownCapabilities: [String] = []
    /// What an operator should know though the plugin loaded (printed at load, listed).
    public var warnings: [String] = []
    /// What it registered in init: tool names, and hooks as "point (priority N)".
    public var tools: [String] = []
    public var hooks: [String] = []
    /// Its gateway methods (full names) and routes ("GET /plugins/<id>/…", "* …" for every method).
    public var methods: [String] = []
    public var routes: [String] = []
    /// Whether the operator's config lets it use external agents (plugins.allowAcpSpawn and its entry).
    public var mayUseAgents = false

    var summary: PluginSummary {
        PluginSummary(id: id ?? fileName, version: version ?? "?", state: state.rawValue, reason: reason)
    }

    public var fileName: String { file.split(separator: "/").last.map(String.init) ?? file }

    var json: JSON {
        var members: [(String, JSON)] = [("file", .string(file)), ("id", JSON(id)), ("name", JSON(name)), ("version", JSON(version)),
                                         ("language", JSON(language)), ("sdk", JSON(sdk)),
                                         ("abiVersion", JSON(abiVersion)), ("state", .string(state.rawValue))]
        if let reason { members.append(("reason", .string(reason))) }
        members.append(("capabilities", .array(capabilities.map(JSON.string))))
        if !unknownCapabilities.isEmpty { members.append(("unknownCapabilities", .array(unknownCapabilities.map(JSON.string)))) }
        if !warnings.isEmpty { members.append(("warnings", .array(warnings.map(JSON.string)))) }
        members.append(("tools", .array(tools.map(JSON.string))))
        members.append(("hooks", .array(hooks.map(JSON.string))))
        members.append(("methods", .array(methods.map(JSON.string))))
        members.append(("routes", .array(routes.map(JSON.string))))
        members.append(("allowAcpSpawn", .bool(mayUseAgents)))
        return .object(members)
    }
}
