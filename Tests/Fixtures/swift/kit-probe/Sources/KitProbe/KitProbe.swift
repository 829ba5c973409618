// kit-probe: walks PincerPluginKit through the whole host table from Swift
// concurrency and logs what each call answered, for SwiftSDKTests to read.
//
//   init     tools: kit-probe.echo (answers its arguments), kit-probe.fail
//            (throws), kit-probe.once (unregisters itself; its closure's
//            capture logs when the kit releases it); a run_event observer
//   start    a task that spawns, waits, reads, steers, rate-limits, deletes
//            through the async API; shutdown waits for it to end

import Dispatch
import PincerPluginKit
import Synchronization

/// Logs once when the closure holding it is released: what the kit's release callback must do exactly once.
final class ReleaseWitness: Sendable {
    let host: PincerHost
    let name: String
    init(host: PincerHost, name: String) {
        self.host = host
        self.name = name
    }
    deinit { try? host.log(.info, "released \(name)") }
}

struct Refusal: Error, CustomStringConvertible {
    var description: String { "the probe refuses, as asked" }
}

final class KitProbe: Plugin {
    static let descriptor = PluginDescriptor(
        id: "kit-probe", name: "Kit probe", version: "1.0.0", summary: "Exercises PincerPluginKit.",
        capabilities: [.sessionsSpawn, .sessionsRead, .sessionsPrompt, .sessionsSteer, .sessionsDelete, .sessionsMetadata,
                       .rateLimit, .hostRead, .toolsRegister, .hooksObserve])

    let host: PincerHost
    let tourDone = DispatchSemaphore(value: 0)
    let started = Mutex(false)

    init(host: PincerHost) throws {
        self.host = host
        try host.registerTool("kit-probe.echo", description: "Answers its arguments.") { call in
            "echo \(call.argumentsJSON) for \(call.toolName)"
        }
        try host.registerTool("kit-probe.fail", description: "Throws.") { _ in throw Refusal() }
        let witness = ReleaseWitness(host: host, name: "kit-probe.once")
        let registration = Mutex<Registration?>(nil)
        let once = try host.registerTool("kit-probe.once", description: "Unregisters itself.") { _ in
            if let mine = registration.withLock({ $0 }) { try host.unregister(mine) }
            return "once from \(witness.name)"
        }
        registration.withLock { $0 = once }
        try host.registerHook(.runEvent) { event in
            if event.payloadJSON.contains("\"kind\":\"finished\"") { try host.log(.info, "observed finished: \(event.payloadJSON)") }
            return .proceed
        }
        try host.log(.info, "init on \(host.name) \(host.version), ABI \(host.abiVersion.major).\(host.abiVersion.minor)-rc\(host.abiVersion.prerelease)")
    }

    func start() {
        started.withLock { $0 = true }
        Task { [self] in
            await tour()
            tourDone.signal()
        }
    }

    /// Waits for the tour, which ends soon once the plugin is stopping (its blocking calls answer
    /// SHUT_DOWN), but not forever: the tour needs a thread of the cooperative pool to end, and
    /// the thread stopping us may be one.
    func shutdown() {
        if started.withLock({ $0 }) { _ = tourDone.wait(timeout: .now() + 10) }
    }

    private func say(_ line: String) { try? host.log(.info, line) }

    private func tour() async {
        do {
            say("extension pincer.acp/2: \(host.extension("pincer.acp/2") == nil ? "nil" : "present")")
            say("config: \(try host.config())")
            say("status starts: \(try host.status().prefix(9))")
            say("models: \(try host.models().contains("local/instant"))")
            do { _ = try host.gatewayRequest("sessions.delete") } catch let error as PincerError { say("gateway refused: \(error.code)") }
            let spawned = try await host.spawn(SpawnRequest(
                message: #"probe @kit-probe.echo{"n":1} @kit-probe.fail @kit-probe.once @kit-probe.once"#,
                label: "probe", metadataJSON: #"{"kit-probe":{"round":1}}"#))
            let info = try await host.wait(runId: spawned.runId, timeoutMs: 30_000)
            say("wait: \(info.status) \(info.finalText ?? "-")")
            say("messages: \(try host.messages(sessionKey: spawned.sessionKey, limit: 2).count > 0)")
            say("session has label: \(try host.session(spawned.sessionKey).contains("probe"))")
            try host.setMetadata(sessionKey: spawned.sessionKey, json: #"{"round":2}"#)
            say("metadata: \(try host.metadata(sessionKey: spawned.sessionKey))")
            say("is_streaming after the run: \(try host.isStreaming(spawned.sessionKey))")
            say("steer on an idle session: \(try host.steer(sessionKey: spawned.sessionKey, text: "hello"))")
            let next = try host.prompt(sessionKey: spawned.sessionKey, text: "again #fail")
            say("prompt then wait: \(try await host.wait(runId: next, timeoutMs: 30_000).status)")
            try host.cancelRun(next)
            var decisions: [Bool] = []
            for _ in 0..<3 { decisions.append(try host.rateLimitCheck("probe-key", maxRequests: 2, windowMs: 60_000).allowed) }
            say("rate limit: \(decisions)")
            try host.rateLimitReset("probe-key")
            say("after reset: \(try host.rateLimitCheck("probe-key", maxRequests: 2, windowMs: 60_000).remaining)")
            do { _ = try host.isStreaming("no-such-session") } catch let error as PincerError { say("unknown session: \(error.code) — \(error.message)") }
            do { _ = try host.rateLimitCheck("nul\u{0}key", maxRequests: 1, windowMs: 1) } catch let error as PincerError { say("NUL key: \(error.code)") }
            say("stop requested: \(try host.runStopRequested(next))")
            try await host.deleteSession(spawned.sessionKey)
            do { _ = try host.session(spawned.sessionKey) } catch let error as PincerError { say("deleted: \(error.code)") }
            say("tour finished")
        } catch {
            say("tour failed: \(error)")
        }
    }
}

@_cdecl("pincer_plugin_get")
public func entry() -> UnsafePointer<pincer_plugin_entry> { PluginEntry.make(KitProbe.self) }
