// The agent loop of one run: model turn → tool calls → policy → tool → next
// turn, until the model answers without tool calls or the turn limit is hit.
// Steering text queued by steer() joins the transcript at each tool-call or
// turn boundary, so the model's next turn sees it; a final answer given while
// steering waits is followed by one more turn that answers it. Each tool call
// passes the host's and the session's policy, then the before_tool_call gates
// (without the engine lock), then runs; after_tool_call observers hear of it.

struct AgentLoop {
    let engine: Engine
    let run: Run
    let session: Session

    struct Outcome {
        var status: RunStatus
        var text: String?
        var error: String?
    }

    /// Where the loop stands between steps: what a worker that takes the run over resumes from.
    struct Position: Sendable {
        var turnsTaken = 0
        /// The model's latest turn, while its tool calls run.
        var turn: ModelTurn?
        /// The index in `turn.toolCalls` of the next call to run.
        var nextCall = 0
    }

    /// This thread was left in a plugin's gate past its deadline; another worker carries the run on.
    private struct MovedOn: Error {}

    /// Runs the loop from `position` to the run's end. Nil when the run moved on to another
    /// worker while this thread was in a gate: the caller must then touch nothing of the run.
    func execute(from position: Position = Position()) -> Outcome? {
        guard let provider = engine.catalog.resolve(session.model) else {
            return Outcome(status: .failed, error: "model '\(session.model)' is not in the catalog")
        }
        let engine = self.engine, run = self.run, session = self.session
        let context = TurnContext(
            emit: { text in
                try engine.withLock { try engine.checkStop(run) }
                engine.announce(run, of: session, ["kind": "text_delta", "text": .string(text)])
            },
            pause: { ns in try engine.pause(run, nanoseconds: ns) },
            onStop: run.stopSignal.register, deadlineNs: engine.withLock { run.deadlineNs })
        var position = position
        do {
            while true {
                if let turn = position.turn {
                    while position.nextCall < turn.toolCalls.count {
                        let call = turn.toolCalls[position.nextCall]
                        position.nextCall += 1
                        record(try execute(call, resumingAt: position), of: call)
                    }
                    let steered = engine.withLock { () -> Int in
                        let delivered = deliverSteers()
                        // Tool results and steering become durable at the boundary; a final
                        // answer is written together with the run's end.
                        if !turn.toolCalls.isEmpty || delivered > 0 { engine.persist(session) }
                        return delivered
                    }
                    if turn.toolCalls.isEmpty, steered == 0 {
                        return Outcome(status: .completed, text: turn.text)
                    }
                    position.turn = nil
                }
                guard position.turnsTaken < engine.config.maxTurns else {
                    return Outcome(status: .failed, error: "the run reached the turn limit of \(engine.config.maxTurns) model turns")
                }
                try compactIfNeeded(provider, context)
                let tools = offeredTools // outside the lock: the policy is the session's own, fixed at creation
                let request = try engine.withLock { () throws -> ModelRequest in
                    try engine.checkStop(run)
                    return ModelRequest(model: session.model, systemPrompt: session.systemPrompt,
                                        transcript: session.transcript, tools: tools, scratch: run.scratch)
                }
                let turn: ModelTurn
                do {
                    turn = try provider.respond(to: request, context: context)
                } catch let stop as RunStop {
                    throw stop
                } catch {
                    return Outcome(status: .failed, error: "model '\(session.model)' failed: \(error)")
                }
                try engine.withLock {
                    try engine.checkStop(run)
                    var message = Message(role: .assistant, content: turn.text, runId: run.id)
                    message.toolCalls = turn.toolCalls
                    session.transcript.append(message)
                    engine.record(RunEvent(.turn, ["text": .string(turn.text)]), in: run, of: session)
                    for call in turn.toolCalls {
                        engine.record(RunEvent(.toolCall, ["id": .string(call.id), "name": .string(call.name), "arguments": call.arguments]),
                                      in: run, of: session)
                    }
                    // Make the calls durable before tools (which may be slow) run; the run's
                    // row says "running" from its first such write.
                    if !turn.toolCalls.isEmpty { engine.persist(session, runs: [run]) }
                }
                position = Position(turnsTaken: position.turnsTaken + 1, turn: turn)
            }
        } catch is MovedOn {
            return nil
        } catch let stop as RunStop {
            return Outcome(status: stop.status, error: stop.reason)
        } catch {
            return Outcome(status: .failed, error: "\(error)")
        }
    }

    /// Takes the run over from a worker left in a gate past its deadline: `call` ends blocked
    /// (by `plugin`, for `reason`) and the loop goes on from `position`, as if the gate had
    /// blocked in time. The stuck thread's answer never gets in (GateLane).
    func resume(blocking call: ToolCall, by plugin: String, reason: String, at position: Position) -> Outcome? {
        var result = Message(role: .tool, content: blocked(call, by: plugin, reason: reason), runId: run.id)
        result.toolCallId = call.id
        result.toolName = call.name
        result.isError = true
        told(call, result, arguments: call.arguments, startedNs: MonotonicClock.nanoseconds())
        record(result, of: call)
        return execute(from: position)
    }

    /// Records that a gate blocked `call`; answers what the model is told.
    private func blocked(_ call: ToolCall, by plugin: String, reason: String) -> String {
        recordHook(["point": "before_tool_call", "plugin": .string(plugin), "decision": "blocked",
                    "tool": .string(call.name), "reason": .string(reason)])
        return "tool '\(call.name)' \(reason)"
    }

    /// Adds a tool call's result to the transcript and the run's record.
    private func record(_ result: Message, of call: ToolCall) {
        engine.withLock {
            session.transcript.append(result)
            engine.record(RunEvent(.toolResult, ["id": JSON(result.toolCallId), "name": .string(call.name),
                                                 "isError": .bool(result.isError), "content": .string(String(result.content.prefix(500)))]),
                          in: run, of: session)
        }
    }

    /// Past the budget, summarises everything before this run's message into one
    /// system message. While it runs the session is `compacting` (steer says so).
    private func compactIfNeeded(_ provider: any ModelProvider, _ context: TurnContext) throws {
        let prefix: [Message]? = engine.withLock {
            let size = session.transcript.reduce(0) { $0 + $1.content.utf8.count }
            guard size > engine.config.compactionBudgetChars,
                  let start = session.transcript.firstIndex(where: { $0.runId == run.id && $0.role == .user }), start >= 2
            else { return nil }
            engine.setState(.compacting, of: session)
            return Array(session.transcript[..<start])
        }
        guard let prefix else { return }
        let summary: String
        do {
            summary = try provider.summarize(prefix, model: session.model, context: context)
        } catch {
            engine.withLock { engine.setState(.streaming, of: session) }
            throw error
        }
        engine.withLock {
            var compacted = [Message(role: .system, content: summary, runId: run.id)]
            compacted.append(contentsOf: session.transcript[prefix.count...])
            engine.replaceTranscript(of: session, with: compacted)
            engine.setState(.streaming, of: session)
            engine.record(RunEvent(.compacted, ["messages": JSON(prefix.count)]), in: run, of: session)
        }
        engine.log("session \(session.key) run \(run.id): compacted \(prefix.count) messages into a summary")
    }

    /// Moves queued steering text into the transcript. Lock held.
    private func deliverSteers() -> Int {
        let steers = run.pendingSteers
        run.pendingSteers.removeAll()
        for text in steers {
            session.transcript.append(Message(role: .steer, content: text, runId: run.id))
            engine.record(RunEvent(.steer, ["text": .string(text)]), in: run, of: session)
        }
        return steers.count
    }

    /// Runs one tool call; a refusal or failure becomes an error result the model sees.
    /// Throws only to stop the run, or when it moved on to another worker (`position`
    /// is where that worker resumes: just past this call).
    private func execute(_ call: ToolCall, resumingAt position: Position) throws -> Message {
        let startedNs = MonotonicClock.nanoseconds()
        var arguments = call.arguments
        var result = Message(role: .tool, content: "", runId: run.id)
        result.toolCallId = call.id
        result.toolName = call.name
        do {
            result.content = try invoke(call, arguments: &arguments, resumingAt: position)
            // A result that comes back after the run was asked to stop is dropped, never recorded.
            try engine.withLock { try engine.checkStop(run) }
        } catch let refusal as ToolRefusal {
            result.isError = true
            result.content = refusal.reason
        } catch let stop where stop is RunStop || stop is MovedOn {
            throw stop
        } catch {
            result.isError = true
            result.content = "tool '\(call.name)' failed: \(error)"
        }
        told(call, result, arguments: arguments, startedNs: startedNs)
        return result
    }

    /// Tells after_tool_call observers how a call ended.
    private func told(_ call: ToolCall, _ result: Message, arguments: JSON, startedNs: UInt64) {
        guard engine.hooks.has(.afterToolCall) else { return }
        let payload: JSON = ["arguments": arguments, "result": .string(result.content), "isError": .bool(result.isError),
                             "durationMs": JSON((MonotonicClock.nanoseconds() - startedNs) / 1_000_000)]
        let holders = engine.withLock { engine.namespaceHolders(of: session) }
        engine.hooks.notify(.afterToolCall, owner: session.owner, namespaces: holders) { _ in event(.afterToolCall, call, payload) }
    }

    /// Why a call never reached its tool.
    private struct ToolRefusal: Error { let reason: String }

    /// Policy, then gates, then the tool itself.
    private func invoke(_ call: ToolCall, arguments: inout JSON, resumingAt position: Position) throws -> String {
        guard let tool = engine.tools.tool(named: call.name) else { throw ToolRefusal(reason: "unknown tool '\(call.name)'") }
        if let reason = refusal(of: tool) {
            engine.log("session \(session.key) run \(run.id): \(reason)")
            throw ToolRefusal(reason: reason)
        }
        let engine = self.engine, run = self.run, session = self.session
        if engine.hooks.has(.beforeToolCall) {
            let holders = engine.withLock { engine.namespaceHolders(of: session) }
            // Gates run inline on this worker; one stuck past its deadline leaves this thread
            // to the plugin, and another worker carries the run on from just past this call.
            let moveOn: @Sendable (String, String) -> Void = { plugin, reason in
                engine.takeOver(run, of: session) {
                    AgentLoop(engine: engine, run: run, session: session).resume(blocking: call, by: plugin, reason: reason, at: position)
                }
            }
            let gate = engine.hooks.gate(.beforeToolCall, owner: session.owner, namespaces: holders,
                                         event: { _ in event(.beforeToolCall, call, ["arguments": arguments]) },
                                         moveOn: moveOn) { _, patch in
                try HookPayloads.applyToolCallPatch(patch, to: &arguments)
            }
            if gate.movedOn { throw MovedOn() }
            for plugin in gate.patchedBy {
                recordHook(["point": "before_tool_call", "plugin": .string(plugin), "decision": "patched", "tool": .string(call.name)])
            }
            if let block = gate.block { throw ToolRefusal(reason: blocked(call, by: block.plugin, reason: block.reason)) }
        }
        let context = ToolCallContext(sessionKey: session.key, sessionId: session.id, runId: run.id, toolCallId: call.id,
                                      pause: { ns in try engine.pause(run, nanoseconds: ns) })
        return try CallbackFrames.serving([session.key]) { try tool.invoke(arguments, context) }
    }

    /// Why the session may not use `tool`, or nil when it may: the host's policy first, then
    /// the session's (a session can only narrow what the host allows), then the rules that a
    /// plugin's sessions get only its own plugin tools, and a spawned session the session
    /// tools only by naming them.
    private func refusal(of tool: ToolDefinition) -> String? {
        let groups = engine.tools.members(ofGroup:)
        for (policy, holder) in [(engine.config.toolPolicy, ToolPolicy.Holder.host), (session.toolPolicy, .session)] {
            if case .denied(let reason) = policy.decide(tool: tool.name, groupMembers: groups, holder: holder) { return reason }
        }
        if let reason = engine.otherPluginsToolRefusal(tool, for: session.owner) { return reason }
        if session.isSpawned, SessionTools.names.contains(tool.name),
           !session.toolPolicy.namesExplicitly(tool.name, group: SessionTools.group)
        {
            return "tool '\(tool.name)' is not available to a spawned session unless its own tools_allow names it ('\(tool.name)' or 'group:\(SessionTools.group)')"
        }
        return nil
    }

    /// The tools the model is told about: those the session may use.
    private var offeredTools: [OfferedTool] {
        engine.tools.all.filter { refusal(of: $0) == nil }.map {
            OfferedTool(name: $0.name, description: $0.description, parameters: $0.parameters)
        }
    }

    private func recordHook(_ detail: JSON) {
        engine.withLock { engine.record(RunEvent(.hook, detail), in: run, of: session) }
    }

    private func event(_ point: HookPoint, _ call: ToolCall, _ payload: JSON) -> HookEvent {
        HookEvent(point: point, sessionKey: session.key, sessionId: session.id, runId: run.id, owner: session.owner,
                  workspaceDir: engine.config.workspaceDir, toolName: call.name, toolCallId: call.id, payload: payload)
    }
}
