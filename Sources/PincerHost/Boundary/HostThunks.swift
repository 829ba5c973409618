// The host table: one @_cdecl thunk per entry of pincer_host. Each thunk
// checks the handle (HostTables.withContext), reads its C arguments (CText),
// asks the engine, writes the C outputs, and turns any failure into a result
// code plus a last-error message (CallError). No thunk traps on plugin input.

import CPincer
import PincerCore

#if canImport(Glibc)
import Glibc
#endif

typealias HostHandle = UnsafePointer<pincer_host>?
typealias OutText = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?

enum HostThunks {
    static let hostName = UnsafePointer(strdup("pincer")!)
    static let hostVersion = UnsafePointer(strdup(PincerVersion.host)!)

    static func table(hostData: UnsafeMutableRawPointer?) -> pincer_host {
        pincer_host(
            abi_version: pincer_version(major: UInt32(PINCER_ABI_MAJOR), minor: UInt32(PINCER_ABI_MINOR), patch: UInt32(PINCER_ABI_PATCH)),
            struct_size: UInt32(MemoryLayout<pincer_host>.size),
            host_data: hostData,
            host_name: hostName,
            host_version: hostVersion,
            get_extension: pincerHostGetExtension,
            last_error: pincerHostLastError,
            free: pincerHostFree,
            log: pincerHostLog,
            get_config: pincerHostGetConfig,
            spawn: pincerHostSpawn,
            prompt: pincerHostPrompt,
            wait: pincerHostWait,
            messages: pincerHostMessages,
            get_session: pincerHostGetSession,
            delete_session: pincerHostDeleteSession,
            cancel_run: pincerHostCancelRun,
            steer: pincerHostSteer,
            is_streaming: pincerHostIsStreaming,
            rate_limit_check: pincerHostRateLimitCheck,
            rate_limit_reset: pincerHostRateLimitReset,
            status: pincerHostStatus,
            models: pincerHostModels,
            gateway_request: pincerHostGatewayRequest,
            alloc: pincerHostAlloc,
            register_tool: pincerHostRegisterTool,
            get_metadata: pincerHostGetMetadata,
            set_metadata: pincerHostSetMetadata,
            register_hook: pincerHostRegisterHook)
    }

    /// Runs a thunk body: PINCER_OK when it returns, the error's code (and message) when it throws.
    @inline(__always)
    static func call(_ host: HostHandle, needs capability: Capabilities?, _ body: (PluginContext) throws(CallError) -> Void) -> pincer_result {
        do {
            try HostTables.withContext(host, needs: capability, body)
            return ResultCode.ok
        } catch {
            return error.report()
        }
    }

    /// Engine errors become call errors.
    @inline(__always)
    static func engine<T>(_ body: () throws(EngineError) -> T) throws(CallError) -> T {
        do { return try body() } catch { throw CallError(error) }
    }

    /// A struct the plugin passes in, read once it is known to be there and to have the size
    /// this ABI defines (its struct_size field, named by `size`).
    static func input<T>(_ pointer: UnsafePointer<T>?, _ field: String, _ cType: String, size: KeyPath<T, UInt32>) throws(CallError) -> T {
        guard let value = pointer?.pointee else { throw CallError(ResultCode.invalidArgument, "\(field) is NULL") }
        guard value[keyPath: size] == UInt32(MemoryLayout<T>.size) else {
            throw CallError(ResultCode.invalidArgument, "\(field)->struct_size is \(value[keyPath: size]); ABI 1.0 expects sizeof(\(cType)) = \(MemoryLayout<T>.size)")
        }
        return value
    }

    static func output<T>(_ pointer: UnsafeMutablePointer<T>?, _ field: String) throws(CallError) -> UnsafeMutablePointer<T> {
        guard let pointer else { throw CallError(ResultCode.invalidArgument, "\(field) is NULL") }
        return pointer
    }

    /// Fills a `char **out` with a host-allocated copy of the text the body produces.
    static func text(_ host: HostHandle, _ out: OutText, needs capability: Capabilities?,
                     _ body: (PluginContext) throws(CallError) -> String) -> pincer_result
    {
        out?.pointee = nil
        return call(host, needs: capability) { (context) throws(CallError) in
            let out = try output(out, "out_json")
            out.pointee = CText.allocate(try body(context))
        }
    }

    static let keyLimit = Int(PINCER_SESSION_KEY_CAPACITY) - 1
    static let runIdLimit = Int(PINCER_RUN_ID_CAPACITY) - 1
    static let textLimit = 1 << 20
}

// MARK: - Host services

@_cdecl("pincer_host_get_extension")
func pincerHostGetExtension(_ host: HostHandle, _ id: UnsafePointer<CChar>?) -> UnsafeRawPointer? {
    // ABI 1.0 serves no extensions; the check still refuses forged handles.
    guard HostTables.isLive(host), id != nil else { return nil }
    return nil
}

@_cdecl("pincer_host_last_error")
func pincerHostLastError(_ host: HostHandle) -> UnsafePointer<CChar>? {
    LastError.current()
}

@_cdecl("pincer_host_free")
func pincerHostFree(_ host: HostHandle, _ pointer: UnsafeMutableRawPointer?) {
    free(pointer)
}

@_cdecl("pincer_host_log")
func pincerHostLog(_ host: HostHandle, _ level: pincer_log_level, _ message: UnsafePointer<CChar>?) -> pincer_result {
    HostThunks.call(host, needs: nil) { (context) throws(CallError) in
        guard let level = PluginLogLevel(rawValue: level) else {
            throw CallError(ResultCode.invalidArgument, "log level \(level) is not one of PINCER_LOG_DEBUG..PINCER_LOG_ERROR")
        }
        guard let message else { throw CallError(ResultCode.invalidArgument, "message is NULL") }
        let length = strnlen(message, 64 << 10)
        let bytes = UnsafeRawBufferPointer(start: message, count: length)
        guard CText.isValidUTF8(bytes) else { throw CallError(ResultCode.invalidArgument, "message is not valid UTF-8") }
        context.log(context.id, level, String(decoding: bytes, as: UTF8.self))
    }
}

@_cdecl("pincer_host_get_config")
func pincerHostGetConfig(_ host: HostHandle, _ out: OutText) -> pincer_result {
    HostThunks.text(host, out, needs: nil) { $0.configJSON }
}

// MARK: - Sessions

@_cdecl("pincer_host_spawn")
func pincerHostSpawn(_ host: HostHandle, _ request: UnsafePointer<pincer_spawn_request>?,
                     _ out: UnsafeMutablePointer<pincer_spawn_result>?) -> pincer_result
{
    HostThunks.call(host, needs: .spawn) { (context) throws(CallError) in
        let request = try HostThunks.input(request, "request", "pincer_spawn_request", size: \.struct_size)
        let out = try HostThunks.output(out, "out")
        var metadata: JSON?
        if let text = try CText.string(request.metadata_json, "request->metadata_json", max: 64 << 10, required: false) {
            do { metadata = try JSON.parse(text) } catch {
                throw CallError(ResultCode.invalidArgument, "request->metadata_json is not valid JSON: \(error)")
            }
        }
        let spec = SessionSpec(
            message: try CText.requiredString(request.message, "request->message", max: HostThunks.textLimit),
            systemPrompt: try CText.string(request.system_prompt, "request->system_prompt", max: 256 << 10, required: false),
            toolPolicy: ToolPolicy(
                allow: try CText.strings(request.tools_allow, count: request.tools_allow_count, "request->tools_allow", maxCount: 128, maxBytes: 256),
                deny: try CText.strings(request.tools_deny, count: request.tools_deny_count, "request->tools_deny", maxCount: 128, maxBytes: 256)),
            model: try CText.string(request.model, "request->model", max: 256, required: false),
            timeoutSeconds: Int(request.timeout_seconds),
            label: try CText.string(request.label, "request->label", max: 256, required: false),
            metadata: metadata)
        let accepted = try HostThunks.engine { () throws(EngineError) in try context.engine.spawn(spec, by: context.caller) }
        var result = pincer_spawn_result()
        result.accepted = true
        try CText.copy(accepted.sessionKey, into: &result.session_key, "session_key")
        try CText.copy(accepted.runId, into: &result.run_id, "run_id")
        out.pointee = result
    }
}

@_cdecl("pincer_host_prompt")
func pincerHostPrompt(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ text: UnsafePointer<CChar>?,
                      _ out: UnsafeMutablePointer<pincer_run_ref>?) -> pincer_result
{
    HostThunks.call(host, needs: .control) { (context) throws(CallError) in
        let key = try CText.requiredString(key, "session_key", max: HostThunks.keyLimit)
        let text = try CText.requiredString(text, "text", max: HostThunks.textLimit)
        let out = try HostThunks.output(out, "out")
        let runId = try HostThunks.engine { () throws(EngineError) in try context.engine.prompt(sessionKey: key, text: text, by: context.caller) }
        var ref = pincer_run_ref()
        try CText.copy(runId, into: &ref.run_id, "run_id")
        out.pointee = ref
    }
}

@_cdecl("pincer_host_wait")
func pincerHostWait(_ host: HostHandle, _ runId: UnsafePointer<CChar>?, _ timeoutMs: UInt32,
                    _ out: UnsafeMutablePointer<pincer_run_info>?) -> pincer_result
{
    var finished = false
    let code = HostThunks.call(host, needs: .control) { (context) throws(CallError) in
        let runId = try CText.requiredString(runId, "run_id", max: HostThunks.runIdLimit)
        let out = try HostThunks.output(out, "out")
        let run = try HostThunks.engine { () throws(EngineError) in try context.engine.wait(runId: runId, timeoutMs: timeoutMs, by: context.caller) }
        out.pointee = pincer_run_info(
            status: RunStatusCode.code(run.status),
            final_text: run.finalText.map(CText.allocate),
            error: run.error.map(CText.allocate),
            duration_ms: run.durationMs)
        finished = run.status.isTerminal
        if !finished { LastError.set("run '\(runId)' is still \(run.status.rawValue) after \(timeoutMs) ms") }
    }
    return code == ResultCode.ok && !finished ? ResultCode.timeout : code
}

enum RunStatusCode {
    static func code(_ status: RunStatus) -> pincer_run_status {
        let code: pincer_run_status_code
        switch status {
        case .queued: code = PINCER_RUN_QUEUED
        case .running: code = PINCER_RUN_RUNNING
        case .completed: code = PINCER_RUN_COMPLETED
        case .failed: code = PINCER_RUN_FAILED
        case .timedOut: code = PINCER_RUN_TIMED_OUT
        case .cancelled: code = PINCER_RUN_CANCELLED
        case .interrupted: code = PINCER_RUN_INTERRUPTED
        }
        return pincer_run_status(code.rawValue)
    }
}

@_cdecl("pincer_host_messages")
func pincerHostMessages(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ limit: UInt32, _ out: OutText) -> pincer_result {
    HostThunks.text(host, out, needs: .control) { (context) throws(CallError) in
        let key = try CText.requiredString(key, "session_key", max: HostThunks.keyLimit)
        return try HostThunks.engine { () throws(EngineError) in try context.engine.transcriptJSON(sessionKey: key, limit: Int(limit), by: context.caller) }
    }
}

@_cdecl("pincer_host_get_session")
func pincerHostGetSession(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ out: OutText) -> pincer_result {
    HostThunks.text(host, out, needs: .control) { (context) throws(CallError) in
        let key = try CText.requiredString(key, "session_key", max: HostThunks.keyLimit)
        return try HostThunks.engine { () throws(EngineError) in try context.engine.sessionJSON(sessionKey: key, for: context.caller) }
    }
}

@_cdecl("pincer_host_delete_session")
func pincerHostDeleteSession(_ host: HostHandle, _ key: UnsafePointer<CChar>?) -> pincer_result {
    HostThunks.call(host, needs: .control) { (context) throws(CallError) in
        let key = try CText.requiredString(key, "session_key", max: HostThunks.keyLimit)
        try HostThunks.engine { () throws(EngineError) in try context.engine.deleteSession(key, by: context.caller) }
    }
}

@_cdecl("pincer_host_cancel_run")
func pincerHostCancelRun(_ host: HostHandle, _ runId: UnsafePointer<CChar>?) -> pincer_result {
    HostThunks.call(host, needs: .control) { (context) throws(CallError) in
        let runId = try CText.requiredString(runId, "run_id", max: HostThunks.runIdLimit)
        try HostThunks.engine { () throws(EngineError) in try context.engine.cancelRun(runId, by: context.caller) }
    }
}

// MARK: - Steering

@_cdecl("pincer_host_steer")
func pincerHostSteer(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ text: UnsafePointer<CChar>?,
                     _ out: UnsafeMutablePointer<pincer_steer_outcome>?) -> pincer_result
{
    HostThunks.call(host, needs: .steer) { (context) throws(CallError) in
        let key = try CText.requiredString(key, "session_key", max: HostThunks.keyLimit)
        let text = try CText.requiredString(text, "text", max: HostThunks.textLimit)
        let out = try HostThunks.output(out, "out")
        let outcome = try HostThunks.engine { () throws(EngineError) in try context.engine.steer(sessionKey: key, text: text, by: context.caller) }
        let code: pincer_steer_outcome_code
        switch outcome {
        case .queued: code = PINCER_STEER_QUEUED
        case .noSession: code = PINCER_STEER_NO_SESSION
        case .noActiveRun: code = PINCER_STEER_NO_ACTIVE_RUN
        case .notStreaming: code = PINCER_STEER_NOT_STREAMING
        case .compacting: code = PINCER_STEER_COMPACTING
        case .busy: code = PINCER_STEER_BUSY
        }
        out.pointee = pincer_steer_outcome(code.rawValue)
    }
}

@_cdecl("pincer_host_is_streaming")
func pincerHostIsStreaming(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Bool>?) -> pincer_result {
    HostThunks.call(host, needs: .steer) { (context) throws(CallError) in
        // Session keys are stored valid, so only a miss needs the UTF-8 check.
        let key = try CText.bytes(key, "session_key", max: HostThunks.keyLimit, validateUTF8: false)
        let out = try HostThunks.output(out, "out")
        switch context.engine.isStreaming(sessionKey: key, callerNumber: context.callerNumber, fullAccess: context.fullSessionAccess) {
        case .streaming(let streaming):
            out.pointee = streaming
        case .noSession:
            try CText.requireUTF8(key, "session_key")
            throw CallError(ResultCode.notFound, "no session with key '\(String(decoding: key, as: UTF8.self))'")
        case .denied:
            let key = String(decoding: key, as: UTF8.self)
            throw CallError(context.engine.accessError(sessionKey: key, by: context.caller)
                ?? EngineError(.notFound, "no session with key '\(key)'"))
        }
    }
}

// MARK: - Rate limiting

@_cdecl("pincer_host_rate_limit_check")
func pincerHostRateLimitCheck(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ maxRequests: UInt32, _ windowMs: UInt64,
                              _ out: UnsafeMutablePointer<pincer_rate_limit_result>?) -> pincer_result
{
    HostThunks.call(host, needs: .rateLimit) { (context) throws(CallError) in
        let key = try CText.bytes(key, "key", max: Int(PINCER_RATE_LIMIT_MAX_KEY_BYTES))
        let out = try HostThunks.output(out, "out")
        guard maxRequests >= 1, maxRequests <= SlidingWindowLimiter.maxRequestsLimit else {
            throw CallError(ResultCode.invalidArgument, "max_requests is \(maxRequests); it must be 1 to \(SlidingWindowLimiter.maxRequestsLimit)")
        }
        guard windowMs >= 1, windowMs <= SlidingWindowLimiter.maxWindowMs else {
            throw CallError(ResultCode.invalidArgument, "window_ms is \(windowMs); it must be 1 to \(SlidingWindowLimiter.maxWindowMs)")
        }
        let decision = context.limiter.check(key: key, maxRequests: maxRequests, windowMs: windowMs)
        out.pointee = pincer_rate_limit_result(allowed: decision.allowed, remaining: decision.remaining, retry_after_ms: decision.retryAfterMs)
    }
}

@_cdecl("pincer_host_rate_limit_reset")
func pincerHostRateLimitReset(_ host: HostHandle, _ key: UnsafePointer<CChar>?) -> pincer_result {
    HostThunks.call(host, needs: .rateLimit) { (context) throws(CallError) in
        context.limiter.reset(key: try CText.bytes(key, "key", max: Int(PINCER_RATE_LIMIT_MAX_KEY_BYTES)))
    }
}

// MARK: - Host state

@_cdecl("pincer_host_status")
func pincerHostStatus(_ host: HostHandle, _ out: OutText) -> pincer_result {
    HostThunks.text(host, out, needs: .hostRead) { $0.engine.statusJSON() }
}

@_cdecl("pincer_host_models")
func pincerHostModels(_ host: HostHandle, _ out: OutText) -> pincer_result {
    HostThunks.text(host, out, needs: .hostRead) { $0.engine.modelsJSON() }
}

@_cdecl("pincer_host_gateway_request")
func pincerHostGatewayRequest(_ host: HostHandle, _ method: UnsafePointer<CChar>?, _ params: UnsafePointer<CChar>?,
                              _ out: OutText) -> pincer_result
{
    HostThunks.text(host, out, needs: .hostRead) { (context) throws(CallError) in
        let method = try CText.requiredString(method, "method", max: 256)
        var parsed: JSON?
        if let text = try CText.string(params, "params_json", max: HostThunks.textLimit, required: false) {
            do { parsed = try JSON.parse(text) } catch {
                throw CallError(ResultCode.invalidArgument, "params_json is not valid JSON: \(error)")
            }
        }
        return try HostThunks.engine { () throws(EngineError) in try context.engine.gatewayRequest(method: method, params: parsed) }
    }
}

// MARK: - Memory and tools

@_cdecl("pincer_host_alloc")
func pincerHostAlloc(_ host: HostHandle, _ size: Int) -> UnsafeMutableRawPointer? {
    size == 0 ? nil : malloc(size)
}

@_cdecl("pincer_host_register_tool")
func pincerHostRegisterTool(_ host: HostHandle, _ definition: UnsafePointer<pincer_tool_definition>?) -> pincer_result {
    HostThunks.call(host, needs: .registerTools) { (context) throws(CallError) in
        let definition = try HostThunks.input(definition, "tool", "pincer_tool_definition", size: \.struct_size)
        let name = try CText.requiredString(definition.name, "tool->name", max: 64)
        guard PluginTool.isValidName(name) else {
            throw CallError(ResultCode.invalidArgument, "tool->name '\(name)' is not 1 to 64 characters of [a-z0-9_.-] starting with a letter")
        }
        let description = try CText.requiredString(definition.description, "tool->description", max: 4096)
        var parameters: JSON = ["type": "object"]
        if let text = try CText.string(definition.parameters_json, "tool->parameters_json", max: 64 << 10, required: false) {
            do { parameters = try JSON.parse(text) } catch {
                throw CallError(ResultCode.invalidArgument, "tool->parameters_json is not valid JSON: \(error)")
            }
        }
        let group = try CText.string(definition.group, "tool->group", max: 64, required: false)
        guard let invoke = definition.invoke else { throw CallError(ResultCode.invalidArgument, "tool->invoke is NULL") }
        let tool = PluginTool(plugin: context, name: name, invoke: invoke, context: definition.context)
        try HostThunks.engine { () throws(EngineError) in
            try context.engine.tools.register(ToolDefinition(name: name, description: description, parameters: parameters,
                                                             group: group, owner: context.id, invoke: tool.call))
        }
    }
}

// MARK: - Session metadata

@_cdecl("pincer_host_get_metadata")
func pincerHostGetMetadata(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ out: OutText) -> pincer_result {
    HostThunks.text(host, out, needs: .control) { (context) throws(CallError) in
        let key = try CText.requiredString(key, "session_key", max: HostThunks.keyLimit)
        return try HostThunks.engine { () throws(EngineError) in try context.engine.metadata(sessionKey: key, by: context.caller) }.description
    }
}

@_cdecl("pincer_host_set_metadata")
func pincerHostSetMetadata(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ json: UnsafePointer<CChar>?) -> pincer_result {
    HostThunks.call(host, needs: .control) { (context) throws(CallError) in
        let key = try CText.requiredString(key, "session_key", max: HostThunks.keyLimit)
        let text = try CText.requiredString(json, "json_object", max: 64 << 10)
        let value: JSON
        do { value = try JSON.parse(text) } catch { throw CallError(ResultCode.invalidArgument, "json_object is not valid JSON: \(error)") }
        try HostThunks.engine { () throws(EngineError) in try context.engine.setMetadata(sessionKey: key, value, by: context.caller) }
    }
}

// MARK: - Hooks

@_cdecl("pincer_host_register_hook")
func pincerHostRegisterHook(_ host: HostHandle, _ definition: UnsafePointer<pincer_hook_definition>?) -> pincer_result {
    HostThunks.call(host, needs: .registerHooks) { (context) throws(CallError) in
        let definition = try HostThunks.input(definition, "hook", "pincer_hook_definition", size: \.struct_size)
        guard let point = HookPoint(rawValue: definition.point) else {
            throw CallError(ResultCode.invalidArgument, "hook->point \(definition.point) is not a pincer_hook_point (0 to \(HookPoint.allCases.count - 1))")
        }
        guard definition.deadline_ms <= UInt32(PINCER_HOOK_MAX_DEADLINE_MS) else {
            throw CallError(ResultCode.invalidArgument, "hook->deadline_ms is \(definition.deadline_ms); at most PINCER_HOOK_MAX_DEADLINE_MS (\(PINCER_HOOK_MAX_DEADLINE_MS))")
        }
        guard let call = definition.call else { throw CallError(ResultCode.invalidArgument, "hook->call is NULL") }
        let hook = PluginHook(plugin: context, call: call, context: definition.context)
        context.engine.hooks.register(Hook(plugin: context.id, point: point, priority: definition.priority,
                                           deadlineMs: definition.deadline_ms, seesAllSessions: context.fullSessionAccess,
                                           handler: hook.handle))
    }
}
