// The agent loop of one run: model turn → tool calls → policy → gates → tool
// → next turn, until the model answers without tool calls or the turn limit
// is hit. Steering text queued by steer() joins the transcript at each
// tool-call or turn boundary, so the model's next turn sees it; a final
// answer given while steering waits is followed by one more turn that answers
// it. Each tool call passes the host's and the session's policy, then the
// before_tool_call gates (inline on this worker, without the engine's lock),
// then runs; after_tool_call observers hear of it. The loop reaches the
// engine only through its RunContext, and can resume from a Position on
// another worker when a gate keeps this one.

struct AgentLoop {
    let context: RunContext
    private var run: Run { context.run }
    private var session: Session { context.session }

    init(_ context: RunContext) { self.context = context }

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
        guard let provider = context.provider else {
            return Outcome(status: .failed, error: "model '\(session.model)' is not in the catalog")
        }
        let context = self.context
        let turnContext = TurnContext(emit: { text in try context.streamed(text) },
                                      pause: { ns in try context.pause(nanoseconds: ns) },
                                      onStop: context.run.signal.observe, deadlineNs: context.engine.read { _ in context.run.deadlineNs },
                                      record: { kind, detail in context.recordProvided(kind, detail) })
        var position = position
        var offered = OfferedTools()
        do {
            while true {
                if let turn = position.turn {
                    while position.nextCall < turn.toolCalls.count {
                        let call = turn.toolCalls[position.nextCall]
                        position.nextCall += 1
                        context.recordResult(try execute(call, resumingAt: position), of: call)
                    }
                    let steered = context.boundary(afterToolCalls: !turn.toolCalls.isEmpty)
                    if turn.toolCalls.isEmpty, steered == 0 {
                        return Outcome(status: .completed, text: turn.text)
                    }
                    position.turn = nil
                }
                guard position.turnsTaken < context.config.maxTurns else {
                    return Outcome(status: .failed, error: "the run reached the turn limit of \(context.config.maxTurns) model turns")
                }
                try compactIfNeeded(provider, turnContext)
                // The tools are worked out outside the lock: the policy is the session's own, fixed at creation.
                let request = try context.modelRequest(offering: offered.current(for: self))
                let turn: ModelTurn
                do {
                    turn = try provider.respond(to: request, context: turnContext)
                } catch let stop as RunStop {
                    throw stop
                } catch {
                    return Outcome(status: .failed, error: "model '\(session.model)' failed: \(error)")
                }
                try context.recordTurn(turn)
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
        context.recordResult(result, of: call)
        return execute(from: position)
    }

    /// Past the budget, summarises everything before this run's message into one
    /// system message. While it runs the session is `compacting` (steer says so).
    private func compactIfNeeded(_ provider: any ModelProvider, _ turnContext: TurnContext) throws {
        guard let prefix = context.compactionPrefix() else { return }
        let summary: String
        do {
            summary = try provider.summarize(prefix, model: session.model, context: turnContext)
        } catch {
            context.compacted(prefix.count, into: nil)
            throw error
        }
        context.compacted(prefix.count, into: summary)
        context.log("compacted \(prefix.count) messages into a summary")
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
            try context.checkStop()
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
        guard context.hooks.has(.afterToolCall) else { return }
        let payload: JSON = ["arguments": arguments, "result": .string(result.content), "isError": .bool(result.isError),
                             "durationMs": JSON((MonotonicClock.nanoseconds() - startedNs) / 1_000_000)]
        context.hooks.notify(.afterToolCall, owner: session.owner, namespaces: context.namespaceHolders) { _ in
            event(.afterToolCall, call, payload)
        }
    }

    /// Why a call never reached its tool.
    private struct ToolRefusal: Error { let reason: String }

    /// Policy, then gates, then the tool itself.
    private func invoke(_ call: ToolCall, arguments: inout JSON, resumingAt position: Position) throws -> String {
        guard let tool = context.tools.tool(named: call.name) else { throw ToolRefusal(reason: "unknown tool '\(call.name)'") }
        if let reason = refusal(of: tool) {
            context.log(reason)
            throw ToolRefusal(reason: reason)
        }
        let context = self.context
        if context.hooks.has(.beforeToolCall) {
            // Gates run inline on this worker; one stuck past its deadline leaves this thread
            // to the plugin, and another worker carries the run on from just past this call.
            let moveOn: @Sendable (String, String) -> Void = { plugin, reason in
                context.takeOver { AgentLoop(context).resume(blocking: call, by: plugin, reason: reason, at: position) }
            }
            let gate = context.hooks.gate(.beforeToolCall, owner: session.owner, namespaces: context.namespaceHolders,
                                          event: { _ in event(.beforeToolCall, call, ["arguments": arguments]) },
                                          moveOn: moveOn) { _, patch in
                try HookPayloads.applyToolCallPatch(patch, to: &arguments)
            }
            if gate.movedOn { throw MovedOn() }
            for plugin in gate.patchedBy {
                context.recordHook(["point": "before_tool_call", "plugin": .string(plugin), "decision": "patched", "tool": .string(call.name)])
            }
            if let block = gate.block { throw ToolRefusal(reason: blocked(call, by: block.plugin, reason: block.reason)) }
        }
        let toolContext = ToolCallContext(sessionKey: session.key, sessionId: session.id, runId: run.id, toolCallId: call.id,
                                          pause: { ns in try context.pause(nanoseconds: ns) })
        return try CallbackFrames.serving([session.key]) { try tool.invoke(arguments, toolContext) }
    }

    /// Records that a gate blocked `call`; answers what the model is told.
    private func blocked(_ call: ToolCall, by plugin: String, reason: String) -> String {
        context.recordHook(["point": "before_tool_call", "plugin": .string(plugin), "decision": "blocked",
                            "tool": .string(call.name), "reason": .string(reason)])
        return "tool '\(call.name)' \(reason)"
    }

    /// Why the session may not use `tool`, or nil when it may: the host's policy first, then
    /// the session's (a session can only narrow what the host allows), then the rules that a
    /// plugin's sessions get only its own plugin tools, and a spawned session the session
    /// tools only by naming them.
    private func refusal(of tool: ToolDefinition) -> String? {
        let groups = context.tools.members(ofGroup:)
        for (policy, holder) in [(context.config.toolPolicy, ToolPolicy.Holder.host), (session.toolPolicy, .session)] {
            if case .denied(let reason) = policy.decide(tool: tool.name, groupMembers: groups, holder: holder) { return reason }
        }
        if let reason = context.access.otherPluginsToolRefusal(tool, for: session.owner) { return reason }
        if session.isSpawned, SessionTools.names.contains(tool.name),
           !session.toolPolicy.namesExplicitly(tool.name, group: SessionTools.group)
        {
            return "tool '\(tool.name)' is not available to a spawned session unless its own tools_allow names it ('\(tool.name)' or 'group:\(SessionTools.group)')"
        }
        return nil
    }

    /// The tools the model is told about: those the session may use. Worked out once per run and
    /// again only when a tool is added or withdrawn (the policies are fixed at the session's creation).
    private struct OfferedTools {
        private var generation: UInt64?
        private var tools: [OfferedTool] = []

        mutating func current(for loop: AgentLoop) -> [OfferedTool] {
            let (all, generation) = loop.context.tools.allWithGeneration
            if generation != self.generation {
                tools = all.filter { loop.refusal(of: $0) == nil }.map {
                    OfferedTool(name: $0.name, description: $0.description, parameters: $0.parameters)
                }
                self.generation = generation
            }
            return tools
        }
    }

    private func event(_ point: HookPoint, _ call: ToolCall, _ payload: JSON) -> HookEvent {
        HookEvent(point: point, sessionKey: session.key, sessionId: session.id, runId: run.id, owner: session.owner,
                  workspaceDir: context.config.workspaceDir, toolName: call.name, toolCallId: call.id, payload: payload)
    }
}
