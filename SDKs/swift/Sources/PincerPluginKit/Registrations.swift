// Tools and hooks as Swift closures. Each registration retains a box holding
// the closure and hands the host its address as the C context; the C thunks
// below find the closure through it, and the definition's release callback
// drops the box: exactly once, when the host withdraws the registration
// (tools.h "Lifetime"), or at once here when registering fails. An error the
// closure throws becomes the call's error result and a line in the host's
// log (attributed to this plugin by the host); nothing unwinds into C.

/// One call of a tool (pincer_tool_call), copied out of the host's struct.
public struct ToolCall: Sendable {
    public let sessionKey: String
    public let sessionId: String
    public let runId: String
    public let toolCallId: String
    /// The full name, "<plugin-id>.<name>".
    public let toolName: String
    /// The arguments the model gave, a JSON object.
    public let argumentsJSON: String
    /// The directory the session works in, as hook events carry it ("" from a host whose call lacks it).
    public let workspaceDir: String
}

/// A hook point (hooks.h); a newtype, so a point a newer host adds stays representable.
public struct HookPoint: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Gate: may block or patch a session before it is written.
    public static let beforeSessionCreate = HookPoint(rawValue: 0)
    /// Observer: a session was written.
    public static let sessionCreated = HookPoint(rawValue: 1)
    /// Gate: may block or rewrite a tool call.
    public static let beforeToolCall = HookPoint(rawValue: 2)
    /// Observer: a tool ran.
    public static let afterToolCall = HookPoint(rawValue: 3)
    /// Observer: what a run does, in order.
    public static let runEvent = HookPoint(rawValue: 4)
}

/// What one hook call is about (pincer_hook_event), copied out of the host's struct.
public struct HookEvent: Sendable {
    public let point: HookPoint
    public let sessionKey: String
    public let sessionId: String
    public let runId: String
    /// Who created the session: a plugin id, or "operator".
    public let owner: String
    /// The directory the host runs sessions' work in.
    public let workspaceDir: String
    /// At the tool points: the tool's name and the model's id for the call.
    public let toolName: String?
    public let toolCallId: String?
    /// A JSON object; its members per point are listed in hooks.h.
    public let payloadJSON: String
}

/// A gate's answer. Observers' answers are ignored by the host.
public enum HookDecision: Sendable, Equatable {
    /// Go on unchanged.
    case proceed
    /// Go on with a patch: a JSON object with the members the point allows (hooks.h).
    case patch(String)
    /// Refuse, with a reason shown to the model or the spawning caller.
    case block(String)
}

/// What a registration's C context points at: the closure, and the host it answers through.
final class CallbackBox<Body: Sendable>: Sendable {
    let host: PincerHost
    let body: Body
    init(host: PincerHost, body: Body) {
        self.host = host
        self.body = body
    }
}

typealias ToolBox = CallbackBox<@Sendable (ToolCall) throws -> String>
typealias HookBox = CallbackBox<@Sendable (HookEvent) throws -> HookDecision>

/// The code a thrown error returns, after logging it: a PincerError keeps its code, anything else is PLUGIN.
func report(_ error: any Error, in what: String, through host: PincerHost) -> (code: pincer_result, message: String) {
    let pincer = error as? PincerError
    let message = pincer?.message ?? String(describing: error)
    try? host.log(.error, "\(what) threw: \(message)")
    return ((pincer?.code ?? .plugin).rawValue, message)
}

/// Every registration's release: drops the box its context holds (whatever the box's closure type).
private let releaseBox: pincer_release_fn = { context in
    Unmanaged<AnyObject>.fromOpaque(context!).release()
}

private let invokeTool: pincer_tool_invoke = { context, call, outText in
    let box = Unmanaged<ToolBox>.fromOpaque(context!).takeUnretainedValue()
    let c = call!.pointee
    let toolCall = ToolCall(sessionKey: string(c.session_key), sessionId: string(c.session_id), runId: string(c.run_id),
                            toolCallId: string(c.tool_call_id), toolName: string(c.tool_name),
                            argumentsJSON: string(c.arguments_json),
                            workspaceDir: Int(c.struct_size) >= MemoryLayout<pincer_tool_call>.offset(of: \.workspace_dir)! + MemoryLayout<UnsafePointer<CChar>?>.size
                                ? string(c.workspace_dir) : "")
    do {
        outText!.pointee = box.host.allocated(try box.body(toolCall))
        return ResultCode.ok.rawValue
    } catch {
        let (code, message) = report(error, in: "tool \(toolCall.toolName)", through: box.host)
        outText!.pointee = box.host.allocated(message)
        return code
    }
}

private let callHook: pincer_hook_fn = { context, event, decision in
    let box = Unmanaged<HookBox>.fromOpaque(context!).takeUnretainedValue()
    let e = event!.pointee
    let hookEvent = HookEvent(point: HookPoint(rawValue: e.point), sessionKey: string(e.session_key), sessionId: string(e.session_id),
                              runId: string(e.run_id), owner: string(e.owner), workspaceDir: string(e.workspace_dir),
                              toolName: e.tool_name.map { String(cString: $0) }, toolCallId: e.tool_call_id.map { String(cString: $0) },
                              payloadJSON: string(e.payload_json))
    do {
        switch try box.body(hookEvent) {
        case .proceed:
            break
        case .patch(let json):
            decision!.pointee.patch_json = box.host.allocated(json)
        case .block(let reason):
            decision!.pointee.verdict = pincer_hook_verdict(PINCER_HOOK_BLOCK.rawValue)
            decision!.pointee.reason = box.host.allocated(reason)
        }
        return ResultCode.ok.rawValue
    } catch {
        let (code, message) = report(error, in: "hook at point \(hookEvent.point.rawValue)", through: box.host)
        decision!.pointee.reason = box.host.allocated(message)
        return code
    }
}

extension PincerHost {
    /// Registers a tool named "<plugin-id>.<name>" ("tools.register"). `body` runs on the
    /// session's run lane and answers the text the model reads; what it throws reaches the
    /// model as the tool's error (and the host's log). The closure is released once the
    /// registration is withdrawn and its last call has returned.
    @discardableResult
    public func registerTool(_ name: String, description: String, parametersJSON: String? = nil, group: String? = nil,
                             _ body: @escaping @Sendable (ToolCall) throws -> String) throws -> Registration {
        let context = Unmanaged.passRetained(ToolBox(host: self, body: body))
        var handle: pincer_registration = 0
        do {
            try withCText(name, "name") { name in
                try withCText(description, "description") { description in
                    try withOptionalCText(parametersJSON, "parametersJSON") { parameters in
                        try withOptionalCText(group, "group") { group in
                            var definition = pincer_tool_definition()
                            definition.struct_size = UInt32(MemoryLayout<pincer_tool_definition>.size)
                            definition.name = name
                            definition.description = description
                            definition.parameters_json = parameters
                            definition.group = group
                            definition.invoke = invokeTool
                            definition.context = context.toOpaque()
                            definition.release = releaseBox
                            try check(raw.pointee.register_tool!(raw, &definition, &handle))
                        }
                    }
                }
            }
        } catch {
            context.release()  // a failed registration is never released by the host (tools.h)
            throw error
        }
        return Registration(rawValue: handle)
    }

    /// Registers a hook at `point` ("hooks.gate" for gates, "hooks.observe" for observers).
    /// A gate's body answers its decision; what it throws blocks the call it gates (fail
    /// closed) and is logged. An observer's decision is ignored. deadlineMs 0 takes the host's.
    @discardableResult
    public func registerHook(_ point: HookPoint, priority: Int32 = 0, deadlineMs: UInt32 = 0,
                             _ body: @escaping @Sendable (HookEvent) throws -> HookDecision) throws -> Registration {
        let context = Unmanaged.passRetained(HookBox(host: self, body: body))
        var definition = pincer_hook_definition()
        definition.struct_size = UInt32(MemoryLayout<pincer_hook_definition>.size)
        definition.point = point.rawValue
        definition.priority = priority
        definition.deadline_ms = deadlineMs
        definition.call = callHook
        definition.context = context.toOpaque()
        definition.release = releaseBox
        var handle: pincer_registration = 0
        let code = raw.pointee.register_hook!(raw, &definition, &handle)
        do { try check(code) } catch {
            context.release()
            throw error
        }
        return Registration(rawValue: handle)
    }
}
