// What one run's loop may do to the engine, and nothing more: read and
// extend its own session's transcript and its run's record, pause, check for
// a stop, deliver steering, compact, and hand the run to another worker. Each
// step is one change under the engine's lock (Engine.change), whose effects
// (observers told, waiters woken) follow outside it.

struct RunContext: Sendable {
    let engine: Engine
    let run: Run
    let session: Session

    var config: EngineConfig { engine.config }
    var tools: ToolRegistry { engine.tools }
    var hooks: HookRegistry { engine.hooks }
    var access: AccessPolicy { engine.access }
    var provider: (any ModelProvider)? { engine.catalog.resolve(session.model) }

    func log(_ line: String) { engine.log(line, metadata: ["session": "\(session.key)", "run": "\(run.id)"]) }

    /// Throws the run's stop (cancellation, shutdown, timeout), if it has one.
    func checkStop() throws {
        try engine.read { _ throws in try engine.checkStop(run) }
    }

    /// Sleeps up to `nanoseconds`; throws at once when the run must stop.
    func pause(nanoseconds: UInt64) throws { try engine.pause(run, nanoseconds: nanoseconds) }

    /// A piece of the model's text as it streams: run_event observers hear it.
    func streamed(_ text: String) throws {
        try engine.change { state throws in
            try engine.checkStop(run)
            state.announce(run, of: session, ["kind": "text_delta", "text": .string(text)])
        }
    }

    /// The next model turn's request: the transcript as it stands.
    func modelRequest(offering tools: [OfferedTool]) throws -> ModelRequest {
        try engine.read { _ throws in
            try engine.checkStop(run)
            var request = ModelRequest(model: session.model, systemPrompt: session.systemPrompt,
                                       transcript: session.transcript, tools: tools, scratch: run.scratch)
            request.session = TurnSession(key: session.key, id: session.id, workspaceDir: config.workspaceDir, toolRefusal: toolRefusal,
                                          toolGate: providedToolGate)
            return request
        }
    }

    /// Records the model's turn and its tool calls; the calls are durable before any tool runs
    /// (the run's row says "running" from its first such write).
    func recordTurn(_ turn: ModelTurn) throws {
        try engine.change { state throws in
            try engine.checkStop(run)
            var message = Message(role: .assistant, content: turn.text, runId: run.id)
            message.toolCalls = turn.toolCalls
            session.transcript.append(message)
            state.record(RunEvent(.turn, ["text": .string(turn.text)]), in: run, of: session)
            for call in turn.toolCalls {
                state.record(RunEvent(.toolCall, call.json), in: run, of: session)
            }
            if !turn.toolCalls.isEmpty { state.persist(session, runs: [run]) }
        }
    }

    /// Adds a tool call's result to the transcript and the run's record.
    func recordResult(_ result: Message, of call: ToolCall) {
        engine.change { state in
            session.transcript.append(result)
            state.record(RunEvent(.toolResult, ["id": JSON(result.toolCallId), "name": .string(call.name),
                                                "isError": .bool(result.isError), "content": .string(String(result.content.prefix(500)))]),
                         in: run, of: session)
        }
    }

    /// Why the session may not use a tool of this name by the host's and the session's
    /// policies (a provider's own tools: an external agent's, named "acp:<kind>"), or nil.
    var toolRefusal: @Sendable (String) -> String? {
        let policies = [(config.toolPolicy, ToolPolicy.Holder.host), (session.toolPolicy, .session)]
        let groups = tools.members(ofGroup:)
        return { name in
            for (policy, holder) in policies {
                if case .denied(let reason) = policy.decide(tool: name, groupMembers: groups, holder: holder) { return reason }
            }
            return nil
        }
    }

    /// before_tool_call for a call the provider's agent makes itself: gates may let it go on or
    /// block it, never rewrite it (a patch blocks). Runs on the asking thread (handed to the
    /// plugin's gate lane), not the run's worker.
    var providedToolGate: @Sendable (_ name: String, _ callId: String, _ arguments: JSON, _ workspace: String) -> String? {
        let context = self
        return { name, callId, arguments, workspace in
            guard context.hooks.has(.beforeToolCall) else { return nil }
            let event = HookEvent(point: .beforeToolCall, sessionKey: context.session.key, sessionId: context.session.id, runId: context.run.id,
                                  owner: context.session.owner, workspaceDir: workspace, toolName: name, toolCallId: callId,
                                  payload: ["arguments": arguments])
            let gate = context.hooks.gate(.beforeToolCall, owner: context.session.owner, namespaces: context.namespaceHolders,
                                          event: { _ in event }) { _, _ in
                throw ToolFailure("an external agent's tool call cannot be rewritten; a patch blocks it")
            }
            guard let block = gate.block else { return nil }
            context.recordHook(["point": "before_tool_call", "plugin": .string(block.plugin), "decision": "blocked",
                                "tool": .string(name), "reason": .string(block.reason)])
            return block.reason
        }
    }

    /// Adds a provider's event to the run's record.
    func recordProvided(_ kind: RunEvent.Kind, _ detail: JSON) {
        engine.change { $0.record(RunEvent(kind, detail), in: run, of: session) }
    }

    /// Adds a hook's decision to the run's record.
    func recordHook(_ detail: JSON) {
        engine.change { $0.record(RunEvent(.hook, detail), in: run, of: session) }
    }

    /// The turn's boundary: queued steering joins the transcript, and tool results and steering
    /// become durable (a final answer is written with the run's end). Answers how many were delivered.
    func boundary(afterToolCalls: Bool) -> Int {
        engine.change { state in
            let steers = run.pendingSteers
            run.pendingSteers.removeAll()
            for text in steers {
                session.transcript.append(Message(role: .steer, content: text, runId: run.id))
                state.record(RunEvent(.steer, ["text": .string(text)]), in: run, of: session)
            }
            if afterToolCalls || !steers.isEmpty { state.persist(session) }
            return steers.count
        }
    }

    /// Past the compaction budget, everything before this run's message, with the session
    /// then `compacting` (steer says so); nil within the budget.
    func compactionPrefix() -> [Message]? {
        engine.change { state in
            let size = session.transcript.reduce(0) { $0 + $1.content.utf8.count }
            guard size > config.compactionBudgetChars,
                  let start = session.transcript.firstIndex(where: { $0.runId == run.id && $0.role == .user }), start >= 2
            else { return nil }
            state.setState(.compacting, of: session)
            return Array(session.transcript[..<start])
        }
    }

    /// Replaces the first `count` messages with the summary (nil: compaction failed), streaming again.
    func compacted(_ count: Int, into summary: String?) {
        engine.change { state in
            if let summary {
                var messages = [Message(role: .system, content: summary, runId: run.id)]
                messages.append(contentsOf: session.transcript[count...])
                state.replaceTranscript(of: session, with: messages)
            }
            state.setState(.streaming, of: session)
            if summary != nil { state.record(RunEvent(.compacted, ["messages": JSON(count)]), in: run, of: session) }
        }
    }

    /// The plugins holding a metadata namespace on the session (its hooks see it too).
    var namespaceHolders: Set<String> { engine.read { $0.namespaceHolders(of: session) } }

    /// Hands the run to another worker, which goes on with `resume`.
    func takeOver(_ resume: @escaping @Sendable () -> AgentLoop.Outcome?) { engine.takeOver(session, resume: resume) }
}
