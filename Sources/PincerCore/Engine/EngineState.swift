// The engine's mutable state as one value, held under the engine's lock: the
// session and run tables, the guards, retention, queued-byte budgets. Its
// mutating functions change the tables and add what must follow to
// `actions` — start a worker, wake a run's waiters, tell run_event observers
// — which the engine takes and performs once it has let go of the lock
// (Engine.change), the shape of async-http-client's connection pool. The one
// effect inside the lock is queueing a store write (a short append), so the
// writer sees changes in the order they were made; the commit happens on the
// writer's thread.

import Synchronization

struct EngineState {
    var sessions: [String: Session] = [:]
    var runs: [String: Run] = [:]
    var retention: RunRetention
    var sessionRetention: SessionRetention
    /// Whether a session was ever retired (the first is logged; the rest are counted).
    private var hasRetired = false
    var guards: SpawnGuards
    let access: AccessPolicy
    /// Bytes of user messages in runs that have not started, per caller (InputLimits.queuedMessageBytes).
    var queuedBytes: [Caller: Int] = [:]
    /// Namespaces a creator may seed with metadata: loaded plugins' ids.
    var pluginNamespaces = Set<String>()
    var plugins: [PluginSummary] = []
    var endedCounts: [RunStatus: Int] = [:]
    var stopping = false
    /// Commits to the store, when there is one.
    var writer: (any SessionStore)?
    /// What is_streaming reads without the lock; kept in step with every session's state.
    let stateIndex: SessionStateIndex
    let callerNumbers: CallerNumbers
    let hooks: HookRegistry
    let metrics: EngineMetrics
    let workspaceDir: String
    /// What must follow the changes made so far (taken and performed by Engine.change).
    var actions = EngineActions()

    init(config: EngineConfig, access: AccessPolicy, hooks: HookRegistry, metrics: EngineMetrics, stateIndex: SessionStateIndex,
         callerNumbers: CallerNumbers) {
        retention = RunRetention(maxRuns: config.retainedRuns, maxBytes: config.retainedRunBytes)
        sessionRetention = SessionRetention(maxSessions: config.maxSessions)
        // The most it can hold, so it never grows: growing rehashes every key under the lock
        // (one spawn held it 27-28 ms at 98,304 sessions, measured). Address space only, until used.
        // At the operator config's largest bound (10,000,000) about 400 MB of address space.
        sessions.reserveCapacity(min(config.maxSessions, 10_000_000) + min(config.maxConcurrentRuns, 65_535))
        guards = SpawnGuards(config)
        self.access = access
        workspaceDir = config.workspaceDir
        self.hooks = hooks
        self.metrics = metrics
        self.stateIndex = stateIndex
        self.callerNumbers = callerNumbers
    }

    // MARK: - Lookups

    func session(_ key: String) throws(EngineError) -> Session {
        guard let s = sessions[key] else { throw EngineError(.notFound, "no session with key '\(key)'") }
        return s
    }

    /// The session under `key` that `caller` may use. One it may not use is reported exactly
    /// like one that does not exist: a plugin learns nothing of others' sessions.
    func session(_ key: String, by caller: Caller) throws(EngineError) -> Session {
        guard let s = sessions[key], access.mayUse(s, by: caller) else { throw EngineError(.notFound, "no session with key '\(key)'") }
        if let refusal = access.externalAgentRefusal(model: s.model, by: caller) { throw EngineError(.denied, refusal) }
        return s
    }

    /// A run the caller may reach; any other is reported like one that does not exist.
    func run(_ id: String, by caller: Caller) throws(EngineError) -> Run {
        guard let run = runs[id], access.mayReach(run, in: sessions[run.sessionKey], by: caller) else {
            throw EngineError(.notFound, "no run with id '\(id)'")
        }
        if let model = sessions[run.sessionKey]?.model, let refusal = access.externalAgentRefusal(model: model, by: caller) {
            throw EngineError(.denied, refusal)
        }
        return run
    }

    /// The plugins whose hooks see the session beside those that may use it: every plugin
    /// holding a metadata namespace on it.
    func namespaceHolders(of session: Session) -> Set<String> { Set(session.metadata.keys) }

    /// Refuses initial metadata for a namespace that is neither the creator's nor a loaded plugin's.
    func checkNamespaces(_ metadata: [String: JSON], by caller: Caller) throws(EngineError) {
        if metadata.count > InputLimits.metadataNamespaces {
            throw EngineError(.invalidArgument, "metadata_json has \(metadata.count) namespaces; at most PINCER_MAX_METADATA_NAMESPACES = \(InputLimits.metadataNamespaces)")
        }
        for namespace in metadata.keys where namespace != caller.namespace && !pluginNamespaces.contains(namespace) {
            throw EngineError(.invalidArgument, "metadata_json names namespace '\(namespace)', which is no loaded plugin's id")
        }
    }

    // MARK: - Sessions and runs

    mutating func add(_ session: Session) {
        sessions[session.key] = session
        touch(session)
        stateIndex.set(session.key, session.state, owner: callerNumbers.number(of: session.owner))
        metrics.sessions.record(sessions.count)
    }

    /// Whether `session` is still the one held under its key (a run may outlive its deleted session).
    func holds(_ session: Session) -> Bool { sessions[session.key] === session }

    /// Deletes the session in memory and queues its deletion for the store; the store and the
    /// deletion's ticket, when there is a store.
    mutating func delete(_ session: Session) -> (store: any SessionStore, ticket: UInt64)? {
        remove(session)
        return writer.map { ($0, $0.enqueue(.deleteSession(session.key))) }
    }

    private mutating func remove(_ session: Session) {
        sessions[session.key] = nil
        sessionRetention.forget(session)
        metrics.sessions.record(sessions.count)
        stateIndex.remove(session.key)
        for run in session.queue { stop(run, in: session, status: .cancelled, reason: "its session was deleted") }
    }

    /// Marks the session as the most recently active (a run queued or ended, or the session added).
    /// A session already deleted stays out (its runs end after it is gone).
    mutating func touch(_ session: Session) {
        guard holds(session) else { return }
        sessionRetention.touch(session)
    }

    /// Past engine.maxSessions, deletes idle sessions, the largest holder's least recently active
    /// first (SessionRetention), in memory and in the store; their model providers hear of it
    /// outside the lock (an action). A run queued or at work keeps a session (its worker may
    /// still be leaving: that is safe).
    mutating func retireIdleSessions() {
        while sessions.count > sessionRetention.maxSessions, let session = sessionRetention.nextToRetire(isIdle: { $0.queue.isEmpty }) {
            _ = delete(session)
            actions.retiredSessions.append(session.key)
            metrics.sessionsRetired.increment()
            if !hasRetired {
                hasRetired = true
                actions.firstRetirement = true
            }
        }
    }

    /// Queues a run in the session; a session without a worker gets one (an action).
    mutating func enqueueRun(in session: Session, message: String, by caller: Caller, id: String = SessionKeys.runId()) -> Run {
        let run = Run(id: id, sessionKey: session.key, message: message, owner: caller)
        runs[run.id] = run
        queuedBytes[caller, default: 0] += message.utf8.count
        session.queue.append(run)
        session.runCount += 1
        touch(session)
        guards.queued(in: session, needsWorker: !session.workerActive)
        metrics.sessionsAtWork.record(guards.sessionsAtWork)
        if !session.workerActive {
            session.workerActive = true
            actions.startWorkers.append(session)
        }
        return run
    }

    /// The session's worker starts its first queued run.
    mutating func start(_ run: Run, in session: Session) {
        releaseQueuedBytes(of: run)
        run.status = .running
        run.startedNs = MonotonicClock.nanoseconds()
        run.deadlineNs = run.startedNs &+ UInt64(session.timeoutSeconds) &* 1_000_000_000
        setState(.streaming, of: session)
        if !run.messageRecorded {
            session.transcript.append(Message(role: .user, content: run.message, runId: run.id))
            run.messageRecorded = true
            persist(session)
        }
    }

    /// The session's worker found its queue empty and leaves.
    mutating func drained(_ session: Session) {
        session.workerActive = false
        guards.drained(session)
        metrics.sessionsAtWork.record(guards.sessionsAtWork)
    }

    /// Marks a run to stop. The running one stops at its next check (its pauses wake); queued ones end now.
    mutating func stop(_ run: Run, in session: Session, status: RunStatus, reason: String) {
        if run === session.queue.first, run.status == .running {
            if run.stopRequest == nil { run.stopRequest = (status, reason) }
            actions.wake.append(run)
        } else {
            finish(run, in: session, status: status, text: nil, error: reason)
        }
    }

    /// Ends a run: recorded, written, remembered, and its waiters woken (an action).
    mutating func finish(_ run: Run, in session: Session, status: RunStatus, text: String?, error: String?) {
        guard !run.status.isTerminal else { return }
        releaseQueuedBytes(of: run)
        touch(session)
        run.status = status
        run.finalText = text
        run.error = error
        run.endedNs = MonotonicClock.nanoseconds()
        var detail: [(String, JSON)] = [("status", .string(status.rawValue)), ("durationMs", JSON(run.snapshot.durationMs))]
        if let error { detail.append(("error", .string(error))) }
        // Observers get the final text too (the run's record has it as its last turn already).
        record(RunEvent(.finished, .object(detail)), in: run, of: session, announcing: text.map { [("finalText", .string($0))] } ?? [])
        endedCounts[status, default: 0] += 1
        metrics.runEnded(status)
        persist(session, runs: [run])
        session.queue.removeAll { $0 === run }
        if session.state == .streaming { setState(.idle, of: session) }
        remember(run)
        actions.wake.append(run)
    }

    /// A run read back from the store, ended.
    mutating func restore(_ run: Run) {
        runs[run.id] = run
        if run.status.isTerminal { endedCounts[run.status, default: 0] += 1 }
        remember(run)
    }

    /// Keeps an ended run for wait() and listings, forgetting the oldest past the retention bounds,
    /// in the store too.
    private mutating func remember(_ run: Run) {
        run.measureRetainedBytes()
        let forgotten = retention.remember(run.id, size: run.retainedBytes)
        guard !forgotten.isEmpty else { return }
        for id in forgotten { runs[id] = nil }
        _ = writer?.enqueue(.forgetRuns(forgotten))
    }

    /// A run leaves its caller's queued-bytes budget when it starts, or ends without starting.
    private mutating func releaseQueuedBytes(of run: Run) {
        guard !run.leftQueue else { return }
        run.leftQueue = true
        queuedBytes[run.owner, default: 0] -= run.message.utf8.count
        if queuedBytes[run.owner] == 0 { queuedBytes[run.owner] = nil }
    }

    /// Sets the session's state, keeping the state index in step.
    mutating func setState(_ state: SessionState, of session: Session) {
        session.state = state
        if holds(session) { stateIndex.set(session.key, state, owner: callerNumbers.number(of: session.owner)) }
    }

    // MARK: - Records, observers, the store

    /// Adds an event to the run's record; run_event observers hear of it (an action).
    mutating func record(_ event: RunEvent, in run: Run, of session: Session, announcing extra: [(String, JSON)] = []) {
        run.events.append(event)
        if run.eventWatchers > 0 { actions.wake.append(run) }
        guard hooks.has(.runEvent), case .object(let members) = event.detail else { return }
        announce(run, of: session, .object([("kind", .string(event.kind.rawValue))] + members + extra))
    }

    /// Tells run_event observers about the run (an action; they are never waited for).
    mutating func announce(_ run: Run, of session: Session, _ payload: JSON) {
        guard hooks.has(.runEvent) else { return }
        let event = HookEvent(point: .runEvent, sessionKey: session.key, sessionId: session.id, runId: run.id,
                              owner: session.owner, workspaceDir: workspaceDir, payload: payload)
        actions.announcements.append(.init(owner: session.owner, namespaces: namespaceHolders(of: session), event: event))
    }

    /// Queues what changed in the session since its last write (new messages, these runs, and
    /// the session itself when new) for the store writer, which commits it with whatever else
    /// is queued. A failed commit is logged; the engine goes on in memory.
    mutating func persist(_ session: Session, runs: [Run] = [], isNew: Bool = false, metadata: [String: JSON] = [:]) {
        // A session deleted while its run went on has nothing left to write: its rows would break
        // the foreign keys and fail the whole group commit, other sessions' writes with it.
        guard let writer, holds(session) else { return }
        var batch = StoreBatch(newSession: isNew ? session.stored : nil, sessionKey: session.key)
        batch.metadata = metadata
        batch.messages = (session.persistedCount..<session.transcript.count).map { ($0, session.transcript[$0]) }
        batch.runs = runs.map(\.stored)
        for run in runs {
            batch.events += (run.persistedEvents..<run.events.count).map { (run.id, $0, run.events[$0]) }
            run.persistedEvents = run.events.count
        }
        session.persistedCount = session.transcript.count
        let sequence = writer.enqueue(.batch(batch))
        for run in runs { run.writeSequence = sequence }
    }

    /// Replaces the transcript (after compaction), in memory and in the store.
    mutating func replaceTranscript(of session: Session, with messages: [Message]) {
        session.transcript = messages
        session.persistedCount = messages.count
        _ = writer?.enqueue(.replaceTranscript(sessionKey: session.key, messages: messages))
    }
}

/// What follows a change to the engine's state, performed outside the lock.
struct EngineActions {
    struct Announcement {
        var owner: Caller
        var namespaces: Set<String>
        var event: HookEvent
    }

    /// Sessions whose queue needs a worker.
    var startWorkers: [Session] = []
    /// Runs that ended, were asked to stop, or recorded an event someone follows: their waiters and pauses wake.
    var wake: [Run] = []
    /// run_event payloads for observers.
    var announcements: [Announcement] = []
    /// Sessions deleted past engine.maxSessions: their model providers are told.
    var retiredSessions: [String] = []
    /// The engine retired a session for the first time: the log says so once.
    var firstRetirement = false

    var isEmpty: Bool { startWorkers.isEmpty && wake.isEmpty && announcements.isEmpty && retiredSessions.isEmpty }
}

/// Each caller's number in the session state index (stable for the engine's life): 0 is the operator.
final class CallerNumbers: Sendable {
    private let numbers = Mutex<[Caller: UInt32]>([.operator: 0])

    func number(of caller: Caller) -> UInt32 {
        numbers.withLock { numbers in
            if let n = numbers[caller] { return n }
            let n = UInt32(numbers.count)
            numbers[caller] = n
            return n
        }
    }
}
