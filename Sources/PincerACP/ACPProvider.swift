// External coding agents as models of the catalog: "acp/<name>" for each agent
// the operator configured (acp.agents.<name>). A session on one gets its own
// agent process and ACP session at its first turn (ACPAgentSession), kept
// across its runs — follow-ups continue the same agent session — and ended
// when the session is deleted or the host stops. At most
// acp.maxConcurrentAgents agent processes run at once; past it a turn fails
// with a message naming the setting.

import Foundation
import PincerCore
import Synchronization

/// One agent the operator configured.
public struct ACPAgentSettings: Sendable, Equatable {
    public var name: String
    /// The executable (absolute) and its arguments: a plugin names an agent, never a command line.
    public var command: String
    public var arguments: [String]
    public var environment: [String: String]
    /// How long initialize and session/new may take.
    public var startTimeoutMs = 30_000
    /// Whether the agent may run commands through the client's terminal (acp.agents.<name>.terminal),
    /// and how much of a command's output is kept (the newest bytes).
    public var terminal = false
    public var terminalOutputBytes = 1 << 20
    /// What the agent is told the client is.
    public var hostVersion = "1"

    public init(name: String, command: String, arguments: [String] = [], environment: [String: String] = [:]) {
        (self.name, self.command, self.arguments, self.environment) = (name, command, arguments, environment)
    }
}

public final class ACPProvider: ModelProvider, Sendable {
    public static let prefix = "acp/"

    public let agents: [ACPAgentSettings]
    public let maxConcurrentAgents: Int
    private let sessions = Mutex<[String: ACPAgentSession]>([:])
    private let closed = Atomic<Bool>(false)
    private let logSink = Mutex<@Sendable (String) -> Void>({ _ in })

    public init(agents: [ACPAgentSettings], maxConcurrentAgents: Int) {
        self.agents = agents
        self.maxConcurrentAgents = maxConcurrentAgents
    }

    public func attach(log: @escaping @Sendable (String) -> Void) { logSink.withLock { $0 = log } }

    private func log(_ line: String) { logSink.withLock { $0 }(line) }

    public var models: [ModelDescriptor] {
        agents.map { ModelDescriptor(id: Self.prefix + $0.name, provider: "acp", description: "external agent '\($0.name)' over the Agent Client Protocol (\($0.command))",
                                     supportsTools: false, streams: true) }
    }

    /// The agents alive now (their processes run).
    public var liveAgents: Int { sessions.withLock { $0.count } }

    public func respond(to request: ModelRequest, context: TurnContext) throws -> ModelTurn {
        guard let session = request.session else { throw ModelFailure("an ACP agent needs the turn's session") }
        guard let agent = agents.first(where: { Self.prefix + $0.name == request.model }) else { throw ModelFailure("no ACP agent for model \(request.model)") }
        // The newest input: the run's message, or steering delivered when the last turn ended.
        guard let message = request.transcript.last(where: { $0.role == .user || $0.role == .steer })?.content else {
            throw ModelFailure("the run has no user message to prompt the agent with")
        }
        let agentSession = try self.session(for: session, agent: agent, context: context)
        return ModelTurn(text: try agentSession.prompt(message, session: session, context: context), toolCalls: [])
    }

    /// The session's agent, started at its first turn.
    private func session(for session: TurnSession, agent: ACPAgentSettings, context: TurnContext) throws -> ACPAgentSession {
        guard !closed.load(ordering: .relaxed) else { throw ModelFailure("the host is stopping its agents") }
        if let existing = sessions.withLock({ $0[session.key] }) {
            if let reason = existing.connection.endedReason {
                throw ModelFailure("agent '\(agent.name)' of this session has ended (\(reason)); the session stays readable, but cannot continue")
            }
            return existing
        }
        let workspace = (session.workspaceDir as NSString).appendingPathComponent("acp/\(session.id)")
        do { try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true) } catch {
            throw ModelFailure("cannot create the agent's workspace \(workspace): \(error.localizedDescription)")
        }
        let created = ACPAgentSession(agent: agent, workspace: ACPAgentSession.realPath(workspace)) { [weak self] in self?.log($0) }
        let admitted = sessions.withLock { sessions -> Bool in
            guard sessions.count < maxConcurrentAgents else { return false }
            sessions[session.key] = created
            return true
        }
        guard admitted else {
            throw ModelFailure("\(maxConcurrentAgents) agents are running already (acp.maxConcurrentAgents)")
        }
        do { try created.start(stop: { ACPAgentSession.mustStop(context) }) } catch {
            sessions.withLock { _ = $0.removeValue(forKey: session.key) }
            created.close()
            try context.pause(0)  // stopped while starting: the run's own stop
            throw ModelFailure("agent '\(agent.name)' did not start: \(error.message)")
        }
        return created
    }

    public func sessionEnded(_ sessionKey: String) {
        sessions.withLock { $0.removeValue(forKey: sessionKey) }?.close()
    }

    public func shutdown() {
        closed.store(true, ordering: .relaxed)
        let all = sessions.withLock { sessions in
            defer { sessions.removeAll() }
            return Array(sessions.values)
        }
        for session in all { session.close() }
    }
}
