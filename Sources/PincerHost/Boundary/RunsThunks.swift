// The "pincer.runs/1" table (runs.h): follow() and the follower behind it.
// A follower waits on the run from a parked thread of its own (Engine.events,
// woken as events are recorded) and posts each call onto the plugin's events
// lane; a call the lane has no room for becomes part of a GAP, and END is
// retried until the lane takes it — so it is never dropped. The END call
// itself ends the registration, so release comes after it.

import CPincer
import PincerCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

enum RunsExtension {
    static let id = PINCER_RUNS_EXTENSION_ID

    nonisolated(unsafe) static let table: UnsafeMutablePointer<pincer_runs_v1> = {
        let table = UnsafeMutablePointer<pincer_runs_v1>.allocate(capacity: 1)
        table.initialize(to: pincer_runs_v1(struct_size: UInt32(MemoryLayout<pincer_runs_v1>.size), follow: pincerRunsFollow))
        return table
    }()

    /// Where followers wait on their runs.
    static let followers = ParkedThreads(name: "pincer-run-follower")
}

/// One follow: the plugin's callback, and the loop that feeds it.
final class RunFollower: Sendable {
    let plugin: PluginContext
    let registration: Registration
    let runId: String
    let onEvent: pincer_run_event_fn
    let endOnly: Bool
    private let stopped = Atomic<Bool>(false)

    /// What one on_event call carries.
    enum Call {
        case event(seq: Int, json: String)
        case gap(first: Int, missed: Int)
        case end(RunSnapshot, events: Int)
    }

    init(plugin: PluginContext, registration: Registration, runId: String, onEvent: @escaping pincer_run_event_fn, endOnly: Bool) {
        (self.plugin, self.registration, self.runId, self.onEvent, self.endOnly) = (plugin, registration, runId, onEvent, endOnly)
    }

    /// Unregistered, or the plugin stopping: the loop ends at its next wake-up.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        plugin.engine.wakeWaiters()
    }

    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    func follow() {
        var next = 0, gap: (first: Int, missed: Int)?
        while !isStopped {
            let read: (events: [RunEvent], run: RunSnapshot)
            do {
                read = try plugin.engine.events(ofRun: runId, from: next, timeoutMs: 1000, by: plugin.caller, abandon: { self.isStopped })
            } catch {
                // The host forgot the run (retention): end with what is known.
                deliverEnd(RunSnapshot(id: runId, sessionKey: "", status: .interrupted, finalText: nil,
                                       error: "the host no longer holds this run: \(error.message)", durationMs: 0), events: next)
                return
            }
            if !endOnly {
                for event in read.events {
                    if let pending = gap, post(.gap(first: pending.first, missed: pending.missed)) { gap = nil }
                    if gap != nil || !post(.event(seq: next, json: event.json.description)) {
                        gap = (gap?.first ?? next, (gap?.missed ?? 0) + 1)
                    }
                    next += 1
                }
            } else {
                next += read.events.count
            }
            if read.run.status.isTerminal {
                if let pending = gap { _ = post(.gap(first: pending.first, missed: pending.missed)) }
                deliverEnd(read.run, events: next)
                return
            }
        }
    }

    /// END never drops: it waits for room on the lane (or for the follow to be stopped).
    private func deliverEnd(_ run: RunSnapshot, events: Int) {
        while !isStopped, !post(.end(run, events: events)) { usleep(10_000) }
    }

    /// Queues one call on the plugin's events lane; false when the lane had no room.
    private func post(_ call: Call) -> Bool {
        let bytes: Int
        switch call {
        case .event(_, let json): bytes = json.utf8.count
        case .end(let run, _): bytes = (run.finalText?.utf8.count ?? 0) + (run.error?.utf8.count ?? 0)
        case .gap: bytes = 0
        }
        return plugin.runEventsLane.post(bytes: bytes) { [self] in deliver(call) } == 0
    }

    /// On the lane: the plugin's on_event, counted as a running callback. After END the
    /// registration ends (its release runs once this call has returned).
    private func deliver(_ call: Call) {
        guard registration.enter() else { return }
        var values: [String?] = [runId, nil, nil, nil]
        var event = pincer_run_event(struct_size: UInt32(MemoryLayout<pincer_run_event>.size), kind: 0, run_id: nil, seq: 0, missed: 0,
                                     event_json: nil, status: 0, final_text: nil, error: nil, duration_ms: 0)
        switch call {
        case .event(let seq, let json):
            event.kind = Int32(PINCER_RUN_EVENT.rawValue)
            event.seq = UInt64(seq)
            values[1] = json
        case .gap(let first, let missed):
            event.kind = Int32(PINCER_RUN_GAP.rawValue)
            (event.seq, event.missed) = (UInt64(first), UInt64(missed))
        case .end(let run, let events):
            event.kind = Int32(PINCER_RUN_END.rawValue)
            event.seq = UInt64(events)
            event.status = RunStatusCode.code(run.status)
            event.duration_ms = run.durationMs
            (values[2], values[3]) = (run.finalText, run.error)
        }
        // Copies that live for the call; a text a C string cannot carry (U+0000) is left out.
        let texts = values.map { $0.flatMap { $0.utf8.contains(0) ? nil : strdup($0) } }
        (event.run_id, event.event_json, event.final_text, event.error) = (UnsafePointer(texts[0]), UnsafePointer(texts[1]), UnsafePointer(texts[2]), UnsafePointer(texts[3]))
        onEvent(registration.context, &event)
        texts.forEach { free($0) }
        registration.exit()
        if case .end = call { plugin.withdraw(registration.id) }
    }
}

@_cdecl("pincer_runs_follow")
func pincerRunsFollow(_ host: HostHandle, _ request: UnsafePointer<pincer_run_follow>?, _ out: UnsafeMutablePointer<pincer_registration>?) -> pincer_result {
    HostThunks.call(host, needs: .read) { (context) throws(CallError) in
        let follow = try HostThunks.request(request, "follow", "pincer_run_follow", required: HostThunks.end(of: \pincer_run_follow.on_event))
        guard follow.flags & ~PINCER_RUN_FOLLOW_END_ONLY == 0 else {
            throw CallError(ResultCode.invalidArgument, "follow->flags is \(follow.flags); only PINCER_RUN_FOLLOW_END_ONLY is defined")
        }
        let runId = try CText.requiredString(follow.run_id, "follow->run_id", max: HostThunks.runIdLimit)
        guard let onEvent = follow.on_event else { throw CallError(ResultCode.invalidArgument, "follow->on_event is NULL") }
        // The run must be one the plugin may read, and still held.
        _ = try HostThunks.engine { () throws(EngineError) in try context.engine.events(ofRun: runId, by: context.caller) }
        let registration = Registration(plugin: context, kind: .follow, context: follow.context, release: follow.release)
        let follower = RunFollower(plugin: context, registration: registration, runId: runId, onEvent: onEvent,
                                   endOnly: follow.flags & PINCER_RUN_FOLLOW_END_ONLY != 0)
        try context.add(registration) { () throws(CallError) in
            registration.setRemoval { follower.stop() }
            RunsExtension.followers.submit { follower.follow() }
        }
        out?.pointee = registration.id
    }
}
