// The "pincer.acp/1" table (acp.h): a plugin starts a session on an agent the
// operator configured. The session is then an ordinary one: the host table
// reaches it, and the engine checks the operator's gate (plugins.allowAcpSpawn)
// at every call on it.

import CPincer
import PincerCore

enum ACPExtension {
    static let id = PINCER_ACP_EXTENSION_ID

    nonisolated(unsafe) static let table: UnsafeMutablePointer<pincer_acp_v1> = {
        let table = UnsafeMutablePointer<pincer_acp_v1>.allocate(capacity: 1)
        table.initialize(to: pincer_acp_v1(struct_size: UInt32(MemoryLayout<pincer_acp_v1>.size), spawn: pincerACPSpawn, agents: pincerACPAgents))
        return table
    }()

    /// The configured agents' names, from the catalog's "acp/…" models.
    static func agents(_ engine: Engine) -> [String] {
        engine.catalog.ids.filter { $0.hasPrefix(AccessPolicy.externalAgentPrefix) }.map { String($0.dropFirst(AccessPolicy.externalAgentPrefix.count)) }
    }
}

@_cdecl("pincer_acp_spawn")
func pincerACPSpawn(_ host: HostHandle, _ agent: UnsafePointer<CChar>?, _ request: UnsafePointer<pincer_spawn_request>?,
                    _ out: UnsafeMutablePointer<pincer_spawn_result>?) -> pincer_result {
    HostThunks.call(host, needs: .acpSpawn, blocking: true) { (context) throws(CallError) in
        let name = try CText.requiredString(agent, "agent", max: Int(PINCER_MAX_MODEL_BYTES))
        let known = ACPExtension.agents(context.engine)
        guard known.contains(name) else {
            throw CallError(ResultCode.notFound, "no agent '\(name)' (acp.agents names: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
        var spec = try HostThunks.spawnSpec(request)
        guard spec.model == nil else { throw CallError(ResultCode.invalidArgument, "request->model must be NULL: the agent '\(name)' is the session's model") }
        spec.model = AccessPolicy.externalAgentPrefix + name
        try HostThunks.spawn(context, spec, out)
    }
}

@_cdecl("pincer_acp_agents")
func pincerACPAgents(_ host: HostHandle, _ out: OutText) -> pincer_result {
    HostThunks.text(host, out, needs: nil) { context in
        JSON.array(ACPExtension.agents(context.engine).map {
            .object([("name", .string($0)), ("model", .string(AccessPolicy.externalAgentPrefix + $0))])
        }).description
    }
}
