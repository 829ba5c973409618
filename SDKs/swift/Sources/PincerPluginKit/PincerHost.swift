// PincerHost: the plugin's handle (its identity) and the whole host table (host.h)
// as typed Swift methods. Each method lends its arguments as C strings for the
// call, sets struct_size on every request and result (extension.h), and turns
// a failure into a PincerError carrying the code and last_error, read at once
// on the calling thread. The calls host.h tags [blocking] are async here and
// run on threads of the kit's own; `blocking` offers them synchronously, for
// use inside a callback, where pincer.h asks nested calls to stay on the
// callback's thread.

#if canImport(Glibc)
import Glibc
#endif

public struct PincerHost: @unchecked Sendable {  // the host table is [any-thread] and immutable
    /// The plugin's own handle, as init received it: what a raw C call takes.
    public let raw: UnsafePointer<pincer_host>

    init(_ raw: UnsafePointer<pincer_host>) { self.raw = raw }

    /// The ABI version the host was compiled against.
    public var abiVersion: (major: UInt32, minor: UInt32, patch: UInt32, prerelease: UInt32) {
        let v = raw.pointee.abi_version
        return (v.major, v.minor, v.patch, v.prerelease)
    }

    public var name: String { string(raw.pointee.host_name) }
    public var version: String { string(raw.pointee.host_version) }

    /// Throws the host's error for a failed call; call it right after the call, on its thread.
    @inlinable
    func check(_ code: pincer_result) throws {
        guard code != ResultCode.ok.rawValue else { return }
        throw PincerError(ResultCode(rawValue: code), string(raw.pointee.last_error!(raw)))
    }

    /// Runs a call filling a `char **out` and takes the host-allocated text (freeing it).
    @inline(__always)
    func text(_ call: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> pincer_result) throws -> String {
        var out: UnsafeMutablePointer<CChar>?
        try check(call(&out))
        defer { raw.pointee.free!(raw, out) }
        return string(out)
    }

    /// A copy of `text` in memory from host->alloc, for what a callback hands back to the host.
    func allocated(_ text: String) -> UnsafeMutablePointer<CChar>? {
        let count = text.utf8.count
        guard let memory = raw.pointee.alloc!(raw, count + 1) else { return nil }
        let bytes = memory.bindMemory(to: CChar.self, capacity: count + 1)
        text.withCString { bytes.update(from: $0, count: count) }
        bytes[count] = 0
        return bytes
    }

    // MARK: Host services (no capability)

    /// The host's table for an extension id ("vendor.name/N"), or nil when this host has
    /// none (an older host, say): degrade then.
    public func `extension`(_ id: String) -> UnsafeRawPointer? {
        (try? withCText(id, "id") { raw.pointee.get_extension!(raw, $0) }) ?? nil
    }

    /// One line in the host's log, attributed to this plugin.
    public func log(_ level: LogLevel, _ message: String) throws {
        try check(withCText(message, "message") { raw.pointee.log!(raw, level.rawValue, $0) })
    }

    /// The plugin's config object from the operator's file, as JSON ("{}" when none).
    public func config() throws -> String {
        try text { raw.pointee.get_config!(raw, $0) }
    }

    // MARK: Sessions and runs

    /// Creates a session owned by this plugin and queues its first run ("sessions.spawn").
    /// Blocks while before_session_create gates decide: runs on a thread of the kit's own.
    public func spawn(_ request: SpawnRequest) async throws -> SpawnedSession {
        try await onOwnThread { try blocking.spawn(request) }
    }

    /// Queues a follow-up message as a new run; returns its id ("sessions.prompt").
    public func prompt(sessionKey: String, text: String) throws -> String {
        var request = pincer_prompt_request()
        request.struct_size = UInt32(MemoryLayout<pincer_prompt_request>.size)
        var out = pincer_run_ref()
        out.struct_size = UInt32(MemoryLayout<pincer_run_ref>.size)
        try withCText(sessionKey, "sessionKey") { key in
            try withCText(text, "text") { text in
                request.session_key = key
                request.text = text
                try check(raw.pointee.prompt!(raw, &request, &out))
            }
        }
        return string(fromCharArray: &out.run_id)
    }

    /// Cancels a queued or running run ("sessions.prompt").
    public func cancelRun(_ runId: String) throws {
        try check(withCText(runId, "runId") { raw.pointee.cancel_run!(raw, $0) })
    }

    /// Waits until the run ends or `timeoutMs` passes (0: report at once) ("sessions.read").
    /// A run still going when the time is up answers its current status, not an error.
    public func wait(runId: String, timeoutMs: UInt32) async throws -> RunInfo {
        try await onOwnThread { try blocking.wait(runId: runId, timeoutMs: timeoutMs) }
    }

    /// The session's transcript as JSON; limit > 0 keeps the last `limit` messages ("sessions.read").
    public func messages(sessionKey: String, limit: UInt32 = 0) throws -> String {
        try withCText(sessionKey, "sessionKey") { key in try text { raw.pointee.messages!(raw, key, limit, $0) } }
    }

    /// The session's description as JSON ("sessions.read").
    public func session(_ sessionKey: String) throws -> String {
        try withCText(sessionKey, "sessionKey") { key in try text { raw.pointee.get_session!(raw, key, $0) } }
    }

    /// Whether a run is at work in the session and it is not compacting; cheap ("sessions.read").
    @inlinable
    public func isStreaming(_ sessionKey: String) throws -> Bool {
        var streaming = false
        try withCText(sessionKey, "sessionKey") { try check(raw.pointee.is_streaming!(raw, $0, &streaming)) }
        return streaming
    }

    /// This plugin's own metadata namespace on a session, as a JSON object ("sessions.read").
    public func metadata(sessionKey: String) throws -> String {
        try withCText(sessionKey, "sessionKey") { key in try text { raw.pointee.get_metadata!(raw, key, $0) } }
    }

    /// Replaces this plugin's own metadata namespace on a session ("sessions.metadata").
    public func setMetadata(sessionKey: String, json: String) throws {
        try withCText(sessionKey, "sessionKey") { key in
            try withCText(json, "json") { try check(raw.pointee.set_metadata!(raw, key, $0)) }
        }
    }

    /// Queues text for the session's running run ("sessions.steer").
    public func steer(sessionKey: String, text: String) throws -> SteerOutcome {
        var outcome: pincer_steer_outcome = 0
        try withCText(sessionKey, "sessionKey") { key in
            try withCText(text, "text") { try check(raw.pointee.steer!(raw, key, $0, &outcome)) }
        }
        return SteerOutcome(rawValue: outcome)
    }

    /// Deletes the session, cancelling an active run; returns once the store committed it
    /// ("sessions.delete"). Runs on a thread of the kit's own.
    public func deleteSession(_ sessionKey: String) async throws {
        try await onOwnThread { try blocking.deleteSession(sessionKey) }
    }

    /// Whether the run has been asked to stop; a long tool polls it (no capability).
    public func runStopRequested(_ runId: String) throws -> Bool {
        var stop = false
        try withCText(runId, "runId") { try check(raw.pointee.run_stop_requested!(raw, $0, &stop)) }
        return stop
    }

    // MARK: Rate limiting ("rate_limit")

    /// Checks, and when allowed counts, one request for `key` (rate_limit.h).
    @inlinable
    public func rateLimitCheck(_ key: String, maxRequests: UInt32, windowMs: UInt64) throws -> RateLimitDecision {
        var out = pincer_rate_limit_result()
        out.struct_size = UInt32(MemoryLayout<pincer_rate_limit_result>.size)
        try withCText(key, "key") { try check(raw.pointee.rate_limit_check!(raw, $0, maxRequests, windowMs, &out)) }
        return RateLimitDecision(allowed: out.allowed, remaining: out.remaining, retryAfterMs: out.retry_after_ms)
    }

    /// Forgets every request counted for `key`.
    public func rateLimitReset(_ key: String) throws {
        try check(withCText(key, "key") { raw.pointee.rate_limit_reset!(raw, $0) })
    }

    // MARK: Host state, read-only ("host.read")

    /// The host's status summary as JSON.
    public func status() throws -> String { try text { raw.pointee.status!(raw, $0) } }

    /// The model catalog as JSON.
    public func models() throws -> String { try text { raw.pointee.models!(raw, $0) } }

    /// A read-only gateway method by name with JSON params (nil = none), answering JSON.
    public func gatewayRequest(_ method: String, paramsJSON: String? = nil) throws -> String {
        try withCText(method, "method") { method in
            try withOptionalCText(paramsJSON, "paramsJSON") { params in try text { raw.pointee.gateway_request!(raw, method, params, $0) } }
        }
    }

    // MARK: Registrations

    /// Withdraws one of this plugin's registrations; its closure is released once its
    /// last call has returned. Safe from inside that call.
    public func unregister(_ registration: Registration) throws {
        try check(raw.pointee.unregister!(raw, registration.rawValue))
    }

    /// The calls host.h tags [blocking], synchronous: for use inside a tool or hook,
    /// whose nested host calls must stay on the callback's thread (pincer.h). Elsewhere
    /// use the async methods of PincerHost.
    public var blocking: Blocking { Blocking(host: self) }

    public struct Blocking: Sendable {
        let host: PincerHost

        public func spawn(_ request: SpawnRequest) throws -> SpawnedSession {
            let raw = host.raw
            var out = pincer_spawn_result()
            out.struct_size = UInt32(MemoryLayout<pincer_spawn_result>.size)
            try withCText(request.message, "message") { message in
                try withOptionalCText(request.systemPrompt, "systemPrompt") { systemPrompt in
                    try withOptionalCText(request.model, "model") { model in
                        try withOptionalCText(request.label, "label") { label in
                            try withOptionalCText(request.metadataJSON, "metadataJSON") { metadata in
                                try withCTextList(request.toolsAllow, "toolsAllow") { allow, allowCount in
                                    try withCTextList(request.toolsDeny, "toolsDeny") { deny, denyCount in
                                        var c = pincer_spawn_request()
                                        c.struct_size = UInt32(MemoryLayout<pincer_spawn_request>.size)
                                        c.message = message
                                        c.system_prompt = systemPrompt
                                        c.tools_allow = allow
                                        c.tools_allow_count = allowCount
                                        c.tools_deny = deny
                                        c.tools_deny_count = denyCount
                                        c.model = model
                                        c.timeout_seconds = request.timeoutSeconds
                                        c.label = label
                                        c.metadata_json = metadata
                                        try host.check(raw.pointee.spawn!(raw, &c, &out))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return SpawnedSession(sessionKey: string(fromCharArray: &out.session_key), runId: string(fromCharArray: &out.run_id))
        }

        public func wait(runId: String, timeoutMs: UInt32) throws -> RunInfo {
            let raw = host.raw
            var out = pincer_run_info()
            out.struct_size = UInt32(MemoryLayout<pincer_run_info>.size)
            let code = try withCText(runId, "runId") { raw.pointee.wait!(raw, $0, timeoutMs, &out) }
            // TIMEOUT still fills the run's current status (pincer.h): an answer, not a failure.
            if code != ResultCode.timeout.rawValue { try host.check(code) }
            defer {
                raw.pointee.free!(raw, out.final_text)
                raw.pointee.free!(raw, out.error)
            }
            return RunInfo(status: RunStatus(rawValue: out.status), finalText: out.final_text.map { String(cString: $0) },
                           error: out.error.map { String(cString: $0) }, durationMs: out.duration_ms)
        }

        public func deleteSession(_ sessionKey: String) throws {
            let raw = host.raw
            try host.check(withCText(sessionKey, "sessionKey") { raw.pointee.delete_session!(raw, $0) })
        }
    }
}
