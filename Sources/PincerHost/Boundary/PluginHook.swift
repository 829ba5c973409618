// A hook a plugin registered, seen from the engine: a Swift closure that
// builds the C event on the plugin's lane, calls the plugin (counted as a
// running callback), takes what it hands
// back (reason, patch) and turns each failure — an error code, an unknown
// verdict, text that is not UTF-8, a patch that is not JSON — into a thrown
// error, which a gate turns into a block.

import CPincer
import PincerCore

#if canImport(Glibc)
import Glibc
#endif

struct PluginHook: Sendable {
    let plugin: PluginContext
    let registration: Registration
    let call: pincer_hook_fn
    /// A gate's deadline (its own, or the operator's default), for the diagnostics; nil for observers.
    let deadlineMs: UInt32?

    static let reasonLimit = Int(PINCER_HOOK_REASON_MAX_BYTES)
    static let patchLimit = Int(PINCER_HOOK_PATCH_MAX_BYTES)

    func handle(_ event: HookEvent) throws -> HookReply {
        guard registration.enter() else { throw HookFailure("plugin '\(plugin.id)' is stopping or has shut down") }
        defer { registration.exit() }
        // Ids come from the model: one a C string cannot carry is refused, never cut short.
        if let id = event.toolCallId, id.utf8.contains(0) { throw HookFailure("the tool call id contains U+0000, which a NUL-terminated string cannot carry") }
        // Copies that live for the call: the C event points into them.
        let texts = [event.sessionKey, event.sessionId, event.runId, event.owner.namespace, event.workspaceDir,
                     event.toolName, event.toolCallId, event.payload.description].map { $0.map { strdup($0)! } }
        defer { texts.forEach { free($0) } }
        var cEvent = pincer_hook_event(
            struct_size: UInt32(MemoryLayout<pincer_hook_event>.size), point: event.point.rawValue,
            session_key: texts[0], session_id: texts[1], run_id: texts[2], owner: texts[3], workspace_dir: texts[4],
            tool_name: texts[5], tool_call_id: texts[6], payload_json: texts[7])
        var decision = pincer_hook_decision(struct_size: UInt32(MemoryLayout<pincer_hook_decision>.size),
                                             verdict: Int32(PINCER_HOOK_CONTINUE.rawValue), reason: nil, patch_json: nil)
        let started = MonotonicClock.nanoseconds()
        let code = call(registration.context, &cEvent, &decision)
        if let diagnostics = plugin.diagnostics {
            let elapsedMs = (MonotonicClock.nanoseconds() - started) / 1_000_000
            if let deadlineMs, elapsedMs > deadlineMs {
                diagnostics.record(.lateHookAnswer, "\(event.point.name) hook answered after \(elapsedMs) ms; its deadline is \(deadlineMs) ms")
            }
            do { return try PluginHook.judge(code, &decision) } catch {
                diagnostics.record(.badHookAnswer, "\(event.point.name) hook: \(error)")
                throw error
            }
        }
        return try PluginHook.judge(code, &decision)
    }

    /// What the plugin answered, taken (the host frees what it was handed) and judged.
    private static func judge(_ code: pincer_result, _ decision: inout pincer_hook_decision) throws -> HookReply {
        let reason: String?, patchText: String?
        do {
            // Take both before judging either: the host frees what it was handed, whatever happens.
            let takenReason = Result { () throws(CallError) in try CText.take(decision.reason, "the reason", max: PluginHook.reasonLimit) }
            patchText = try CText.take(decision.patch_json, "the patch", max: PluginHook.patchLimit)
            reason = try takenReason.get()
        } catch {
            throw HookFailure(error.message)
        }
        guard code == ResultCode.ok else {
            throw HookFailure("it returned \(ResultCode.name(code))\(reason.map { ": \($0)" } ?? "")")
        }
        switch decision.verdict {
        case Int32(PINCER_HOOK_CONTINUE.rawValue):
            guard let patchText else { return .proceed(patch: nil) }
            do { return .proceed(patch: try JSON.parse(patchText)) } catch { throw HookFailure("its patch is not valid JSON: \(error)") }
        case Int32(PINCER_HOOK_BLOCK.rawValue):
            return .block(reason: reason.flatMap { $0.isEmpty ? nil : $0 } ?? "no reason given")
        default:
            throw HookFailure("its verdict \(decision.verdict) is neither PINCER_HOOK_CONTINUE nor PINCER_HOOK_BLOCK")
        }
    }
}
