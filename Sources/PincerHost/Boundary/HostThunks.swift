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
    // nonisolated(unsafe): constant C strings every table points at, never written, alive for the process.
    nonisolated(unsafe) static let hostName = UnsafePointer(strdup("pincer")!)
    nonisolated(unsafe) static let hostVersion = UnsafePointer(strdup(PincerVersion.host)!)

    static func table(hostData: UnsafeMutableRawPointer?) -> pincer_host {
        pincer_host(
            abi_version: pincer_version(major: UInt32(PINCER_ABI_MAJOR), minor: UInt32(PINCER_ABI_MINOR), patch: UInt32(PINCER_ABI_PATCH),
                                        prerelease: UInt32(PINCER_ABI_PRERELEASE)),
            struct_size: UInt32(MemoryLayout<pincer_host>.size),
            host_data: hostData,
            host_name: hostName,
            host_version: hostVersion,
            get_extension: pincerHostGetExtension,
            last_error: pincerHostLastError,
            alloc: pincerHostAlloc,
            free: pincerHostFree,
            log: pincerHostLog,
            get_config: pincerHostGetConfig,
            spawn: pincerHostSpawn,
            prompt: pincerHostPrompt,
            cancel_run: pincerHostCancelRun,
            wait: pincerHostWait,
            messages: pincerHostMessages,
            get_session: pincerHostGetSession,
            is_streaming: pincerHostIsStreaming,
            get_metadata: pincerHostGetMetadata,
            steer: pincerHostSteer,
            delete_session: pincerHostDeleteSession,
            set_metadata: pincerHostSetMetadata,
            rate_limit_check: pincerHostRateLimitCheck,
            rate_limit_reset: pincerHostRateLimitReset,
            status: pincerHostStatus,
            models: pincerHostModels,
            gateway_request: pincerHostGatewayRequest,
            register_tool: pincerHostRegisterTool,
            register_hook: pincerHostRegisterHook,
            unregister: pincerHostUnregister,
            run_stop_requested: pincerHostRunStopRequested)
    }

    /// Runs a thunk body: PINCER_OK when it returns, the error's code (and message) when it throws.
    /// `blocking` calls are refused once the plugin is stopping.
    @inline(__always)
    static func call(_ host: HostHandle, needs capability: Capabilities?, blocking: Bool = false, function: StaticString = #function,
                     _ body: (PluginContext) throws(CallError) -> Void) -> pincer_result
    {
        do {
            try HostTables.withContext(host, needs: capability, blocking: blocking, body)
            return ResultCode.ok
        } catch {
            return error.report(for: host, function: function)
        }
    }

    /// Engine errors become call errors.
    @inline(__always)
    static func engine<T>(_ body: () throws(EngineError) -> T) throws(CallError) -> T {
        do { return try body() } catch { throw CallError(error) }
    }

    /// A request struct the plugin passes in, read under extension.h's struct-size rule:
    /// smaller than the host's (but covering `required` bytes) gets zero defaults for the
    /// missing tail; larger is accepted only when every byte past the host's end is zero.
    static func request<T>(_ pointer: UnsafePointer<T>?, _ field: String, _ cType: String, required: Int) throws(CallError) -> T {
        guard let pointer else { throw CallError(ResultCode.invalidArgument, "\(field) is NULL") }
        return try readSized(UnsafeRawPointer(pointer), field, cType, required: required)
    }

    static func readSized<T>(_ raw: UnsafeRawPointer, _ field: String, _ cType: String, required: Int, sizeOffset: Int = 0) throws(CallError) -> T {
        let size = Int(raw.loadUnaligned(fromByteOffset: sizeOffset, as: UInt32.self))
        let known = MemoryLayout<T>.size
        guard size <= Int(PINCER_MAX_STRUCT_SIZE) else {
            throw CallError(ResultCode.invalidArgument, "\(field)->struct_size is \(size); at most PINCER_MAX_STRUCT_SIZE (\(PINCER_MAX_STRUCT_SIZE))")
        }
        guard size >= required else {
            throw CallError(ResultCode.invalidArgument, "\(field)->struct_size is \(size); \(cType) needs at least \(required) bytes (its required fields)")
        }
        // A smaller size no compiler lays out would end inside a field: copied as far as it goes,
        // half a pointer would be read as a whole one (found by scripts/fuzz). Refused, so a field
        // the plugin did set is never dropped either.
        guard size >= known || size % MemoryLayout<T>.alignment == 0 else {
            throw CallError(ResultCode.invalidArgument, "\(field)->struct_size is \(size), not a multiple of \(MemoryLayout<T>.alignment): it would end inside one of \(cType)'s fields (set it to sizeof(\(cType)))")
        }
        if size > known, let offset = (known..<size).first(where: { raw.load(fromByteOffset: $0, as: UInt8.self) != 0 }) {
            throw CallError(ResultCode.unsupported, "\(field) sets a field this host does not know: byte \(offset) of \(cType) is not zero (this host's \(cType) is \(known) bytes; a plugin built for a newer ABI asked for an option this host cannot honour)")
        }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: known, alignment: MemoryLayout<T>.alignment)
        defer { copy.deallocate() }
        copy.initializeMemory(as: UInt8.self, repeating: 0, count: known)
        copy.copyMemory(from: raw, byteCount: Swift.min(size, known))
        return copy.load(as: T.self)
    }

    /// A result struct's capacity, checked before any work: its caller-set struct_size must
    /// reach `minimum`, the end of the struct's 1.0 fields (its PINCER_…_MIN_SIZE), which no
    /// later minor changes.
    static func result<T>(_ pointer: UnsafeMutablePointer<T>?, _ field: String, _ cType: String, minimum: Int) throws(CallError) -> UnsafeMutablePointer<T> {
        guard let pointer else { throw CallError(ResultCode.invalidArgument, "\(field) is NULL") }
        let size = UnsafeRawPointer(pointer).load(as: UInt32.self)
        guard size >= minimum else {
            throw CallError(ResultCode.invalidArgument, "\(field)->struct_size is \(size); set it to sizeof(\(cType)) (at least \(minimum)) before the call")
        }
        return pointer
    }

    /// The 1.0 minimum of each result struct (sessions.h, rate_limit.h: PINCER_…_MIN_SIZE).
    static let spawnResultMinimum = end(of: \pincer_spawn_result.run_id)
    static let runRefMinimum = end(of: \pincer_run_ref.run_id)
    static let runInfoMinimum = end(of: \pincer_run_info.duration_ms)
    static let rateLimitResultMinimum = end(of: \pincer_rate_limit_result.retry_after_ms)

    /// Writes `value` into a result struct checked by `result`: the smaller of the two sizes,
    /// and that size back into its struct_size.
    @inline(__always)
    static func write<T>(_ value: T, to pointer: UnsafeMutablePointer<T>) {
        let written = Swift.min(Int(UnsafeRawPointer(pointer).load(as: UInt32.self)), MemoryLayout<T>.size)
        var value = value
        if written == MemoryLayout<T>.size {
            // The usual case, a struct of this host's size: stored whole, not copied byte by byte.
            pointer.pointee = value
            UnsafeMutableRawPointer(pointer).storeBytes(of: UInt32(written), as: UInt32.self)
            return
        }
        withUnsafeMutableBytes(of: &value) { bytes in
            bytes.storeBytes(of: UInt32(written), as: UInt32.self)
            UnsafeMutableRawPointer(pointer).copyMemory(from: bytes.baseAddress!, byteCount: written)
        }
    }

    static func output<T>(_ pointer: UnsafeMutablePointer<T>?, _ field: String) throws(CallError) -> UnsafeMutablePointer<T> {
        guard let pointer else { throw CallError(ResultCode.invalidArgument, "\(field) is NULL") }
        return pointer
    }

    /// Fills a `char **out` with a host-allocated copy of the text the body produces.
    static func text(_ host: HostHandle, _ out: OutText, needs capability: Capabilities?, function: StaticString = #function,
                     _ body: (PluginContext) throws(CallError) -> String) -> pincer_result
    {
        out?.pointee = nil
        return call(host, needs: capability, function: function) { (context) throws(CallError) in
            let out = try output(out, "out_json")
            out.pointee = try CText.allocate(try body(context), "the answer")
        }
    }

    /// The byte offset just past a field: a request's required size ends at its last required field.
    static func end<T, F>(of field: KeyPath<T, F>) -> Int {
        MemoryLayout<T>.offset(of: field)! + MemoryLayout<F>.size
    }

    static let keyLimit = Int(PINCER_SESSION_KEY_CAPACITY) - 1
    static let runIdLimit = Int(PINCER_RUN_ID_CAPACITY) - 1
    static let textLimit = Int(PINCER_MAX_MESSAGE_BYTES)
}

// MARK: - Host services

@_cdecl("pincer_host_get_extension")
func pincerHostGetExtension(_ host: HostHandle, _ id: UnsafePointer<CChar>?) -> UnsafeRawPointer? {
    // Matched exactly (extension.h); a forged handle gets nothing.
    guard HostTables.context(host) != nil, let id else { return nil }
    for (offered, table) in HostThunks.extensions where CText.equals(id, offered) { return table }
    return nil
}

extension HostThunks {
    /// The extension tables this host offers, by id (extension.h). nonisolated(unsafe): raw pointers
    /// are not Sendable, but these tables are made once and never written again.
    nonisolated(unsafe) static let extensions: [(id: String, table: UnsafeRawPointer)] = [
        (GatewayExtension.id, UnsafeRawPointer(GatewayExtension.table)),
        (RunsExtension.id, UnsafeRawPointer(RunsExtension.table)),
        (ACPExtension.id, UnsafeRawPointer(ACPExtension.table)),
    ]
}

@_cdecl("pincer_host_last_error")
func pincerHostLastError(_ host: HostHandle) -> UnsafePointer<CChar>? {
    LastError.current(plugin: HostTables.context(host)?.slot ?? -1)
}

@_cdecl("pincer_host_alloc")
func pincerHostAlloc(_ host: HostHandle, _ size: Int) -> UnsafeMutableRawPointer? {
    guard let context = HostTables.context(host) else { return nil }
    guard context.phase != .dead else {
        context.diagnostics?.record(.callAfterShutdown, "alloc: answered NULL")
        return nil
    }
    return HostMemory.allocate(size)
}

@_cdecl("pincer_host_free")
func pincerHostFree(_ host: HostHandle, _ pointer: UnsafeMutableRawPointer?) {
    guard pointer != nil, let context = HostTables.context(host) else { return }
    if context.phase == .dead { context.diagnostics?.record(.callAfterShutdown, "free") }
    HostMemory.release(pointer)
}

@_cdecl("pincer_host_log")
func pincerHostLog(_ host: HostHandle, _ level: pincer_log_level, _ message: UnsafePointer<CChar>?) -> pincer_result {
    HostThunks.call(host, needs: nil) { (context) throws(CallError) in
        guard let level = PluginLogLevel(rawValue: level) else {
            throw CallError(ResultCode.invalidArgument, "log level \(level) is not one of PINCER_LOG_DEBUG..PINCER_LOG_ERROR")
        }
        guard let message else { throw CallError(ResultCode.invalidArgument, "message is NULL") }
        context.log(context.id, level, try LogLine.sanitize(message))
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
    HostThunks.call(host, needs: .spawn, blocking: true) { (context) throws(CallError) in
        try HostThunks.spawn(context, HostThunks.spawnSpec(request), out)
    }
}

extension HostThunks {
    /// A spawn request as the engine takes it (sessions.h's rules for each field).
    static func spawnSpec(_ request: UnsafePointer<pincer_spawn_request>?) throws(CallError) -> SessionSpec {
        let request = try HostThunks.request(request, "request", "pincer_spawn_request", required: HostThunks.end(of: \pincer_spawn_request.message))
        var metadata: [String: JSON] = [:]
        if let text = try CText.string(request.metadata_json, "request->metadata_json",
                                       max: Int(PINCER_MAX_METADATA_NAMESPACES) * Int(PINCER_MAX_METADATA_BYTES), required: false) {
            let parsed: JSON
            do { parsed = try JSON.parse(text) } catch {
                throw CallError(ResultCode.invalidArgument, "request->metadata_json is not valid JSON: \(error)")
            }
            guard let namespaces = parsed.objectValue else {
                throw CallError(ResultCode.invalidArgument, "request->metadata_json must be an object keyed by namespace ({\"<plugin-id>\": {…}}), not a \(parsed.typeName)")
            }
            for (namespace, value) in namespaces { metadata[namespace] = value }
        }
        return SessionSpec(
            message: try CText.requiredString(request.message, "request->message", max: HostThunks.textLimit),
            systemPrompt: try CText.string(request.system_prompt, "request->system_prompt", max: Int(PINCER_MAX_SYSTEM_PROMPT_BYTES), required: false),
            toolPolicy: ToolPolicy(
                allow: try CText.strings(request.tools_allow, count: request.tools_allow_count, "request->tools_allow",
                                         maxCount: Int(PINCER_MAX_POLICY_PATTERNS), maxBytes: Int(PINCER_MAX_PATTERN_BYTES)),
                deny: try CText.strings(request.tools_deny, count: request.tools_deny_count, "request->tools_deny",
                                        maxCount: Int(PINCER_MAX_POLICY_PATTERNS), maxBytes: Int(PINCER_MAX_PATTERN_BYTES))),
            model: try CText.string(request.model, "request->model", max: Int(PINCER_MAX_MODEL_BYTES), required: false),
            timeoutSeconds: Int(request.timeout_seconds),
            label: try CText.string(request.label, "request->label", max: Int(PINCER_MAX_LABEL_BYTES), required: false),
            metadata: metadata)
    }

    /// Spawns `spec` for the plugin and writes the result (host->spawn, and acp->spawn).
    static func spawn(_ context: PluginContext, _ spec: SessionSpec, _ out: UnsafeMutablePointer<pincer_spawn_result>?) throws(CallError) {
        let out = try HostThunks.result(out, "out", "pincer_spawn_result", minimum: HostThunks.spawnResultMinimum)
        let accepted = try HostThunks.engine { () throws(EngineError) in try context.engine.spawn(spec, by: context.caller) }
        var result = pincer_spawn_result()
        try CText.copy(accepted.sessionKey, into: &result.session_key, "session_key")
        try CText.copy(accepted.runId, into: &result.run_id, "run_id")
        HostThunks.write(result, to: out)
    }
}

@_cdecl("pincer_host_prompt")
func pincerHostPrompt(_ host: HostHandle, _ request: UnsafePointer<pincer_prompt_request>?,
                      _ out: UnsafeMutablePointer<pincer_run_ref>?) -> pincer_result
{
    HostThunks.call(host, needs: .prompt) { (context) throws(CallError) in
        let request = try HostThunks.request(request, "request", "pincer_prompt_request", required: HostThunks.end(of: \pincer_prompt_request.text))
        let key = try CText.requiredString(request.session_key, "request->session_key", max: HostThunks.keyLimit)
        let text = try CText.requiredString(request.text, "request->text", max: HostThunks.textLimit)
        let out = try HostThunks.result(out, "out", "pincer_run_ref", minimum: HostThunks.runRefMinimum)
        let runId = try HostThunks.engine { () throws(EngineError) in try context.engine.prompt(sessionKey: key, text: text, by: context.caller) }
        var ref = pincer_run_ref()
        try CText.copy(runId, into: &ref.run_id, "run_id")
        HostThunks.write(ref, to: out)
    }
}

@_cdecl("pincer_host_cancel_run")
func pincerHostCancelRun(_ host: HostHandle, _ runId: UnsafePointer<CChar>?) -> pincer_result {
    HostThunks.call(host, needs: .prompt) { (context) throws(CallError) in
        let runId = try CText.requiredString(runId, "run_id", max: HostThunks.runIdLimit)
        try HostThunks.engine { () throws(EngineError) in try context.engine.cancelRun(runId, by: context.caller) }
    }
}

@_cdecl("pincer_host_wait")
func pincerHostWait(_ host: HostHandle, _ runId: UnsafePointer<CChar>?, _ timeoutMs: UInt32,
                    _ out: UnsafeMutablePointer<pincer_run_info>?) -> pincer_result
{
    var finished = false
    let code = HostThunks.call(host, needs: .read, blocking: true) { (context) throws(CallError) in
        let runId = try CText.requiredString(runId, "run_id", max: HostThunks.runIdLimit)
        let out = try HostThunks.result(out, "out", "pincer_run_info", minimum: HostThunks.runInfoMinimum)
        if timeoutMs > 0, let run = context.engine.run(runId), !run.status.isTerminal, CallbackFrames.isServing(run.sessionKey) {
            throw CallError(ResultCode.wouldBlock, "wait() on run '\(runId)' from a callback serving its session '\(run.sessionKey)': that run cannot go on until the callback returns")
        }
        let run = try HostThunks.engine { () throws(EngineError) in
            try context.engine.wait(runId: runId, timeoutMs: timeoutMs, by: context.caller, abandon: { context.isStopping })
        }
        if context.isStopping, !run.status.isTerminal {
            throw CallError(ResultCode.shutDown, "plugin '\(context.id)' is stopping; its wait on run '\(runId)' returned at once")
        }
        finished = run.status.isTerminal
        var info = pincer_run_info()
        info.status = RunStatusCode.code(run.status)
        info.duration_ms = run.durationMs
        if finished {
            info.final_text = try run.finalText.map { (text) throws(CallError) in try CText.allocate(text, "the run's final text") }
            do throws(CallError) { info.error = try run.error.map { (text) throws(CallError) in try CText.allocate(text, "the run's error") } } catch {
                HostMemory.release(info.final_text)
                throw error
            }
        }
        HostThunks.write(info, to: out)
        if !finished { LastError.set("run '\(runId)' is still \(run.status.rawValue) after \(timeoutMs) ms", plugin: context.slot) }
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
    HostThunks.text(host, out, needs: .read) { (context) throws(CallError) in
        let key = try CText.requiredString(key, "session_key", max: HostThunks.keyLimit)
        return try HostThunks.engine { () throws(EngineError) in try context.engine.transcriptJSON(sessionKey: key, limit: Int(limit), by: context.caller) }
    }
}

@_cdecl("pincer_host_get_session")
func pincerHostGetSession(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ out: OutText) -> pincer_result {
    HostThunks.text(host, out, needs: .read) { (context) throws(CallError) in
        let key = try CText.requiredString(key, "session_key", max: HostThunks.keyLimit)
        return try HostThunks.engine { () throws(EngineError) in try context.engine.sessionJSON(sessionKey: key, for: context.caller) }
    }
}

@_cdecl("pincer_host_is_streaming")
func pincerHostIsStreaming(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Bool>?) -> pincer_result {
    // Plugins poll this call. When the handle is live and the session the caller's own, the
    // index answers here, without the general path's closure, Result and checks in turn; any
    // other case (an error among them) takes the general path, which answers it in full.
    if let key, let out, let streaming = HostTables.withLiveContext(host, needs: .read, { context -> Bool? in
        context.engine.ownSessionStreams(cString: key, callerNumber: context.callerNumber, fullAccess: context.fullSessionAccess,
                                         hint: context.streamingHint)
    }) {
        out.pointee = streaming
        return ResultCode.ok
    }
    return isStreamingInFull(host, key, out)
}

/// is_streaming's general path, out of line so the fast path's frame stays small.
@inline(never)
private func isStreamingInFull(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Bool>?) -> pincer_result {
    HostThunks.call(host, needs: .read) { (context) throws(CallError) in
        // Session keys are stored valid, so only a miss needs the UTF-8 check.
        let key = try CText.bytes(key, "session_key", max: HostThunks.keyLimit, validateUTF8: false)
        let out = try HostThunks.output(out, "out")
        switch context.engine.isStreaming(sessionKey: key, caller: context.caller, callerNumber: context.callerNumber,
                                          fullAccess: context.fullSessionAccess) {
        case .streaming(let streaming):
            out.pointee = streaming
        case .noSession, .denied:
            // Another plugin's session is reported exactly like a missing one.
            try CText.requireUTF8(key, "session_key")
            throw CallError(ResultCode.notFound, "no session with key '\(String(decoding: key, as: UTF8.self))'")
        }
    }
}

@_cdecl("pincer_host_get_metadata")
func pincerHostGetMetadata(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ out: OutText) -> pincer_result {
    HostThunks.text(host, out, needs: .read) { (context) throws(CallError) in
        let key = try CText.requiredString(key, "session_key", max: HostThunks.keyLimit)
        return try HostThunks.engine { () throws(EngineError) in try context.engine.metadata(sessionKey: key, by: context.caller) }.description
    }
}

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

@_cdecl("pincer_host_delete_session")
func pincerHostDeleteSession(_ host: HostHandle, _ key: UnsafePointer<CChar>?) -> pincer_result {
    HostThunks.call(host, needs: .delete, blocking: true) { (context) throws(CallError) in
        let key = try CText.requiredString(key, "session_key", max: HostThunks.keyLimit)
        try HostThunks.engine { () throws(EngineError) in try context.engine.deleteSession(key, by: context.caller) }
    }
}

@_cdecl("pincer_host_set_metadata")
func pincerHostSetMetadata(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ json: UnsafePointer<CChar>?) -> pincer_result {
    HostThunks.call(host, needs: .metadata) { (context) throws(CallError) in
        let key = try CText.requiredString(key, "session_key", max: HostThunks.keyLimit)
        let text = try CText.requiredString(json, "json_object", max: Int(PINCER_MAX_METADATA_BYTES))
        let value: JSON
        do { value = try JSON.parse(text) } catch { throw CallError(ResultCode.invalidArgument, "json_object is not valid JSON: \(error)") }
        try HostThunks.engine { () throws(EngineError) in try context.engine.setMetadata(sessionKey: key, value, by: context.caller) }
    }
}

// MARK: - Rate limiting

@_cdecl("pincer_host_rate_limit_check")
func pincerHostRateLimitCheck(_ host: HostHandle, _ key: UnsafePointer<CChar>?, _ maxRequests: UInt32, _ windowMs: UInt64,
                              _ out: UnsafeMutablePointer<pincer_rate_limit_result>?) -> pincer_result
{
    HostThunks.call(host, needs: .rateLimit) { (context) throws(CallError) in
        let key = try CText.bytes(key, "key", max: Int(PINCER_RATE_LIMIT_MAX_KEY_BYTES))
        let out = try HostThunks.result(out, "out", "pincer_rate_limit_result", minimum: HostThunks.rateLimitResultMinimum)
        guard maxRequests >= 1, maxRequests <= SlidingWindowLimiter.maxRequestsLimit else {
            throw CallError(ResultCode.invalidArgument, "max_requests is \(maxRequests); it must be 1 to \(SlidingWindowLimiter.maxRequestsLimit)")
        }
        guard windowMs >= 1, windowMs <= SlidingWindowLimiter.maxWindowMs else {
            throw CallError(ResultCode.invalidArgument, "window_ms is \(windowMs); it must be 1 to \(SlidingWindowLimiter.maxWindowMs)")
        }
        let decision = context.limiter.check(key: key, maxRequests: maxRequests, windowMs: windowMs)
        HostThunks.write(pincer_rate_limit_result(struct_size: 0, allowed: decision.allowed, remaining: decision.remaining,
                                                  retry_after_ms: decision.retryAfterMs), to: out)
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
        let method = try CText.requiredString(method, "method", max: Int(PINCER_GATEWAY_METHOD_MAX_BYTES))
        var parsed: JSON?
        if let text = try CText.string(params, "params_json", max: Int(PINCER_GATEWAY_PARAMS_MAX_BYTES), required: false) {
            do { parsed = try JSON.parse(text) } catch {
                throw CallError(ResultCode.invalidArgument, "params_json is not valid JSON: \(error)")
            }
        }
        return try HostThunks.engine { () throws(EngineError) in try context.engine.gatewayRequest(method: method, params: parsed) }
    }
}

// MARK: - Registrations

@_cdecl("pincer_host_register_tool")
func pincerHostRegisterTool(_ host: HostHandle, _ definition: UnsafePointer<pincer_tool_definition>?,
                            _ out: UnsafeMutablePointer<pincer_registration>?) -> pincer_result
{
    HostThunks.call(host, needs: .registerTools) { (context) throws(CallError) in
        let definition = try HostThunks.request(definition, "tool", "pincer_tool_definition",
                                                required: HostThunks.end(of: \pincer_tool_definition.invoke))
        let name = try CText.requiredString(definition.name, "tool->name", max: Int(PINCER_TOOL_NAME_MAX_BYTES))
        if let problem = PluginTool.nameProblem(name, plugin: context.id, field: "tool->name") { throw CallError(ResultCode.invalidArgument, problem) }
        let description = try CText.requiredString(definition.description, "tool->description", max: Int(PINCER_TOOL_DESCRIPTION_MAX_BYTES))
        var parameters: JSON = ["type": "object"]
        if let text = try CText.string(definition.parameters_json, "tool->parameters_json", max: Int(PINCER_TOOL_SCHEMA_MAX_BYTES), required: false) {
            do { parameters = try JSON.parse(text) } catch {
                throw CallError(ResultCode.invalidArgument, "tool->parameters_json is not valid JSON: \(error)")
            }
        }
        let group = try CText.string(definition.group, "tool->group", max: Int(PINCER_TOOL_GROUP_MAX_BYTES), required: false)
        if let group, let problem = PluginTool.nameProblem(group, plugin: context.id, field: "tool->group") {
            throw CallError(ResultCode.invalidArgument, problem)
        }
        guard let invoke = definition.invoke else { throw CallError(ResultCode.invalidArgument, "tool->invoke is NULL") }
        let registration = Registration(plugin: context, kind: .tool, context: definition.context, release: definition.release)
        let tool = PluginTool(plugin: context, registration: registration, name: name, invoke: invoke)
        let engine = context.engine
        try context.add(registration, claiming: "tool '\(name)'") { () throws(CallError) in
            try HostThunks.engine { () throws(EngineError) in
                try engine.tools.register(ToolDefinition(name: name, description: description, parameters: parameters,
                                                         group: group, owner: context.id, invoke: { try tool.call($0, $1) }))
            }
            registration.setRemoval { engine.tools.unregister(name: name) }
        }
        out?.pointee = registration.id
    }
}

@_cdecl("pincer_host_register_hook")
func pincerHostRegisterHook(_ host: HostHandle, _ definition: UnsafePointer<pincer_hook_definition>?,
                            _ out: UnsafeMutablePointer<pincer_registration>?) -> pincer_result
{
    HostThunks.call(host, needs: nil) { (context) throws(CallError) in
        let definition = try HostThunks.request(definition, "hook", "pincer_hook_definition",
                                                required: HostThunks.end(of: \pincer_hook_definition.call))
        guard let point = HookPoint(rawValue: definition.point) else {
            throw CallError(ResultCode.invalidArgument, "hook->point \(definition.point) is not a pincer_hook_point (0 to \(HookPoint.allCases.count - 1))")
        }
        let needed: Capabilities = point.isGate ? .gate : .observe
        guard context.capabilities.contains(needed) else {
            throw CallError(ResultCode.denied, "plugin '\(context.id)' lacks the capability '\(Capabilities.id(of: needed))' that a \(point.name) hook needs: request it in the descriptor's capabilities (and grant it in plugins.entries.\(context.id).capabilities if that list is set)")
        }
        guard definition.deadline_ms <= UInt32(PINCER_HOOK_MAX_DEADLINE_MS) else {
            throw CallError(ResultCode.invalidArgument, "hook->deadline_ms is \(definition.deadline_ms); at most PINCER_HOOK_MAX_DEADLINE_MS (\(PINCER_HOOK_MAX_DEADLINE_MS))")
        }
        guard let call = definition.call else { throw CallError(ResultCode.invalidArgument, "hook->call is NULL") }
        let registration = Registration(plugin: context, kind: .hook, context: definition.context, release: definition.release)
        let deadline = definition.deadline_ms == 0 ? context.engine.hooks.defaultDeadlineMs : definition.deadline_ms
        let hook = PluginHook(plugin: context, registration: registration, call: call, deadlineMs: point.isGate ? deadline : nil)
        let engine = context.engine
        try context.add(registration) { () throws(CallError) in
            let id = engine.hooks.register(Hook(plugin: context.id, point: point, priority: definition.priority,
                                                deadlineMs: definition.deadline_ms, seesAllSessions: context.fullSessionAccess,
                                                handler: { try hook.handle($0) }))
            registration.setRemoval { engine.hooks.unregister(id: id) }
        }
        out?.pointee = registration.id
    }
}

@_cdecl("pincer_host_unregister")
func pincerHostUnregister(_ host: HostHandle, _ registration: pincer_registration) -> pincer_result {
    HostThunks.call(host, needs: nil) { (context) throws(CallError) in
        guard context.withdraw(registration) else {
            throw CallError(ResultCode.notFound, "no registration \(registration) of plugin '\(context.id)' (already withdrawn, or never one of its own)")
        }
    }
}

// MARK: - Runs, from a tool

@_cdecl("pincer_host_run_stop_requested")
func pincerHostRunStopRequested(_ host: HostHandle, _ runId: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Bool>?) -> pincer_result {
    HostThunks.call(host, needs: nil) { (context) throws(CallError) in
        let runId = try CText.requiredString(runId, "run_id", max: HostThunks.runIdLimit)
        let out = try HostThunks.output(out, "out")
        out.pointee = try HostThunks.engine { () throws(EngineError) in
            try context.engine.stopRequested(runId: runId, by: context.caller, serving: context.isServing(run: runId))
        }
    }
}
