// The engine: the entry points behind every host function. Each checks its
// input and the caller's rights, asks the gates (without the lock), then
// changes the state (EngineState, under the one lock) and performs what the
// change calls for outside it: a worker starts a session's runs, a run's own
// signal wakes its waiters, observers hear of it. Each session with work
// drains on a parked worker thread, so a slow model or tool in one session
// never holds up another, and blocking plugin code never starves a shared
// pool. Callers are synchronous (C threads): nothing here is async. Every
// entry point says who is calling; there is no default caller.

import CoreMetrics
import Foundation
import Logging
import Synchronization

// @unchecked: `state` is guarded by `lock`; every other stored property is a let of a Sendable type.
public final class Engine: @unchecked Sendable {
    public let config: EngineConfig
    public let tools: ToolRegistry
    public let catalog: ModelCatalog
    /// Plugins' hooks: gates the engine waits for, observers it tells.
    public let hooks: HookRegistry
    /// Who may do what; the config's grants.
    public let access: AccessPolicy
    /// The engine's figures (swift-metrics).
    public let metrics: EngineMetrics
    /// Where the engine's lines go (swift-log, label "pincer"; setLog replaces it).
    private let logSink = LogSink()
    /// Guards `state`; as a condition, wakes only stopRuns, which waits for the workers to leave.
    private let lock = NSCondition()
    private var state: EngineState
    /// The parked threads sessions' runs drain on.
    private let runWorkers = ParkedThreads(name: "pincer-run")
    private let stateIndex = SessionStateIndex()
    private let callerNumbers = CallerNumbers()
    private let limiters = Mutex<[String: SlidingWindowLimiter]>([:])
    private let startedNs = MonotonicClock.nanoseconds()

    /// - Parameter providers: every model the engine can run (its catalog); nil: the built-in local
    ///   model alone. The engine owns them: close() shuts them down.
    /// - Parameter store: where sessions outlive the process; nil keeps them in memory only.
    ///   Everything stored is read back now; runs a previous process left in flight are marked interrupted.
    /// - Parameter metrics: the metrics backend; nil takes the process's (MetricsSystem.bootstrap).
    public init(config: EngineConfig = EngineConfig(), providers: [any ModelProvider]? = nil,
                tools: ToolRegistry = ToolRegistry(), store: (any SessionStore)? = nil,
                metrics: MetricsFactory? = nil) throws(EngineError)
    {
        self.config = config
        self.tools = tools
        access = AccessPolicy(config)
        let metrics = EngineMetrics(factory: metrics)
        self.metrics = metrics
        let logSink = self.logSink
        hooks = HookRegistry(defaultDeadlineMs: config.hookDeadlineMs, metrics: metrics,
                             log: { line in logSink.write(line, level: .warning) })
        catalog = try ModelCatalog(providers: providers ?? [LocalModel(tokenDelayMs: config.tokenDelayMs)], defaultModel: config.defaultModel)
        for provider in catalog.providers { provider.attach { line in logSink.write(line, level: .notice) } }
        state = EngineState(config: config, access: access, hooks: hooks, metrics: metrics, stateIndex: stateIndex, callerNumbers: callerNumbers)
        if tools.tool(named: "sessions_spawn") == nil {
            for tool in SessionTools.all(for: self) { try tools.register(tool) }
        }
        if let store {
            let stored = try store.load(runLimit: config.retainedRuns)
            interruptedAtStart = stored.interrupted
            let commitTimer = metrics.storeCommit
            store.startWriting(committed: { commitTimer.recordNanoseconds(Int64(clamping: $0)) },
                               log: { [weak self] line in self?.log(line, level: .error) })
            // Writing already, unless the store is only looked at: runs the restore forgets
            // (past retainedRunBytes) are deleted from it too.
            if !store.readOnly { state.writer = store }
            // Added in the order of their newest message, which orders their activity (SessionRetention).
            for session in stored.sessions.sorted(by: { $0.lastMessageMs < $1.lastMessageMs }) { state.add(Session(restoring: session)) }
            for run in stored.runs { state.restore(Run(restoring: run)) }
            state.writer = store
            // A store holding more than engine.maxSessions (the bound was lowered) is brought
            // within it now, not by the first spawn under the lock.
            if !store.readOnly { change { $0.retireIdleSessions() } }
        }
    }

    /// Runs found in flight when the store was opened (now interrupted).
    public private(set) var interruptedAtStart = 0

    /// Sends the engine's lines to `sink` instead of swift-log's backend: each line as the
    /// host prints it, less the "pincer: " prefix (HostLogHandler), at every level.
    public func setLog(_ sink: @escaping @Sendable (String) -> Void) {
        logSink.set(Logger(label: "pincer") { _ in HostLogHandler(label: "", level: .trace, write: sink) })
    }

    /// A line for the operator (a denied tool call, a failed commit, …); `metadata` names the
    /// session, run or plugin it concerns.
    public func log(_ line: String, level: Logger.Level = .notice, metadata: Logger.Metadata = [:]) {
        logSink.write(line, level: level, metadata: metadata)
    }

    /// The caller's number in the session state index (stable for the engine's life).
    public func number(of caller: Caller) -> UInt32 { callerNumbers.number(of: caller) }

    /// Whether `caller` may use sessions it did not create.
    public func hasFullSessionAccess(_ caller: Caller) -> Bool { access.hasFullSessionAccess(caller) }

    // MARK: - The lock

    /// Changes the state under the lock, then performs what the change calls for outside it.
    func change<T, E: Error>(_ body: (inout EngineState) throws(E) -> T) throws(E) -> T {
        lock.lock()
        let result: Result<T, E>
        do throws(E) { result = .success(try body(&state)) } catch { result = .failure(error) }
        let actions = state.actions
        state.actions = EngineActions()
        lock.unlock()
        if !actions.isEmpty { perform(actions) }
        return try result.get()
    }

    /// Reads the state under the lock.
    func read<T, E: Error>(_ body: (EngineState) throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(state)
    }

    /// Observers are told before waiters wake: whoever wait() returns to finds a run's
    /// events already on the observer lanes, as when they were queued under the lock.
    private func perform(_ actions: EngineActions) {
        for a in actions.announcements { hooks.notify(.runEvent, owner: a.owner, namespaces: a.namespaces) { _ in a.event } }
        for run in actions.wake { run.signal.notify() }
        for session in actions.startWorkers { runWorkers.submit { [self] in drain(session) } }
        if actions.firstRetirement {
            log("engine.maxSessions = \(config.maxSessions) reached: from now on idle sessions are deleted, the least recently active of the caller holding the most first (counted in pincer_sessions_retired_total)", level: .notice)
        }
        for key in actions.retiredSessions { for provider in catalog.providers { provider.sessionEnded(key) } }
    }

    // MARK: - Sessions

    /// Creates a session and queues its first run, within the guards (SpawnGuards).
    /// before_session_create gates may patch or block it first (outside the lock);
    /// session_created observers hear of it after the write.
    public func spawn(_ spec: SessionSpec, by caller: Caller) throws(EngineError) -> (sessionKey: String, runId: String) {
        try access.checkModelOverride(spec.model, defaultModel: catalog.defaultModel, by: caller)
        try InputLimits.check(spec, catalog: catalog)
        try access.checkNamedTools(spec.toolPolicy, in: tools, by: caller)
        var spec = spec
        let model = spec.model ?? catalog.defaultModel
        let timeout = spec.timeoutSeconds.flatMap { $0 > 0 ? $0 : nil } ?? config.defaultRunTimeoutSeconds
        let key = SessionKeys.make(for: caller), id = RandomWords.uuidString(), runId = SessionKeys.runId()
        var metadata = spec.metadata
        func event(_ point: HookPoint, for plugin: String) -> HookEvent {
            HookEvent(point: point, sessionKey: key, sessionId: id, runId: runId, owner: caller, workspaceDir: config.workspaceDir,
                      payload: HookPayloads.session(spec, model: model, timeoutSeconds: timeout, metadata: metadata[plugin]))
        }
        if hooks.has(.beforeSessionCreate) {
            let gate = hooks.gate(.beforeSessionCreate, owner: caller, namespaces: Set(metadata.keys),
                                  event: { event(.beforeSessionCreate, for: $0) }) { plugin, patch in
                try HookPayloads.applySessionPatch(patch, by: plugin, to: &spec, metadata: &metadata)
            }
            if let block = gate.block { throw EngineError(block.isLimit ? .limit : .denied, "spawn refused: \(block.reason)") }
        }
        try change { (state) throws(EngineError) in
            guard !state.stopping else { throw EngineError(.shuttingDown, "the host is shutting down; no new sessions") }
            try state.guards.admitSpawn(by: caller, isChild: spec.parentKey != nil)
            try state.checkNamespaces(metadata, by: caller)
            let session = Session(key: key, id: id, owner: caller, spec: spec, model: model, timeoutSeconds: timeout)
            session.metadata = metadata
            if let prompt = spec.systemPrompt { session.transcript.append(Message(role: .system, content: prompt)) }
            state.add(session)
            let run = state.enqueueRun(in: session, message: spec.message, by: caller, id: runId)
            // Nothing can come before the first run's message: record it now, in the session's own write.
            session.transcript.append(Message(role: .user, content: run.message, runId: run.id))
            run.messageRecorded = true
            state.persist(session, runs: [run], isNew: true)
            state.retireIdleSessions()
        }
        if hooks.has(.sessionCreated) {
            hooks.notify(.sessionCreated, owner: caller, namespaces: Set(metadata.keys)) { event(.sessionCreated, for: $0) }
        }
        return (key, runId)
    }

    /// A child of a session, from its model's sessions_spawn call: owned by the parent's
    /// owner, on the parent's model, its tool policy held to the parent's.
    func spawnChild(of parentKey: String, arguments: JSON) throws -> (sessionKey: String, runId: String) {
        var spec = try SessionTools.childSpec(arguments)
        let parent = try read { (state) throws(EngineError) in try state.session(parentKey) }
        spec.parentKey = parentKey
        spec.toolPolicy = parent.toolPolicy.narrowed(by: spec.toolPolicy)
        spec.model = parent.model
        return try spawn(spec, by: parent.owner)
    }

    /// Who owns a session (a session tool acts with its owner's rights).
    func owner(of sessionKey: String) throws(EngineError) -> Caller {
        try read { (state) throws(EngineError) in try state.session(sessionKey).owner }
    }

    /// Queues a follow-up message as a new run behind any active one. Bounded: runs per
    /// session, queued message bytes per caller, and the guards (SpawnGuards.admitPrompt).
    public func prompt(sessionKey: String, text: String, by caller: Caller) throws(EngineError) -> String {
        try InputLimits.check(text, "text", max: InputLimits.messageBytes, required: true)
        return try change { (state) throws(EngineError) in
            guard !state.stopping else { throw EngineError(.shuttingDown, "the host is shutting down; no new runs") }
            let session = try state.session(sessionKey, by: caller)
            if session.queue.count >= InputLimits.queuedRuns {
                throw EngineError(.limit, "session '\(sessionKey)' already holds \(session.queue.count) queued or running runs (at most PINCER_MAX_QUEUED_RUNS = \(InputLimits.queuedRuns))")
            }
            let queued = state.queuedBytes[caller, default: 0]
            if queued + text.utf8.count > InputLimits.queuedMessageBytes {
                throw EngineError(.limit, "\(caller.label) already has \(queued) bytes of messages queued in runs not yet started (at most PINCER_MAX_QUEUED_MESSAGE_BYTES = \(InputLimits.queuedMessageBytes))")
            }
            try state.guards.admitPrompt(in: session)
            let run = state.enqueueRun(in: session, message: text, by: caller)
            state.persist(session, runs: [run])
            return run.id
        }
    }

    /// Blocks until the run ends, `timeoutMs` passes or `abandon` (checked at every wake-up,
    /// see wakeWaiters) says to stop; returns the run's state either way. Reports an end only
    /// once the store holds it.
    public func wait(runId: String, timeoutMs: UInt32, by caller: Caller, abandon: () -> Bool = { false }) throws(EngineError) -> RunSnapshot {
        let deadlineNs = MonotonicClock.nanoseconds() &+ UInt64(timeoutMs) &* 1_000_000
        let run = try read { (state) throws(EngineError) in try state.run(runId, by: caller) }
        while true {
            let (snapshot, seen, sequence) = read { _ in (run.snapshot, run.signal.current, run.writeSequence) }
            if snapshot.status.isTerminal {
                if let writer = read({ $0.writer }), sequence > 0 { writer.waitUntilCommitted(sequence) }
                return snapshot
            }
            if abandon() || !run.signal.wait(past: seen, untilNs: deadlineNs) {
                // The run may have ended between the read and here: then that end is the answer.
                let latest = read { _ in run.snapshot }
                if latest.status.isTerminal { continue }
                return latest
            }
        }
    }

    /// The run's events from index `from` on, with its state: blocks until there is at least
    /// one, the run ends, `timeoutMs` passes or `abandon` says to stop (checked at every
    /// wake-up, see wakeWaiters). A follower calls it again with `from` past what it got.
    public func events(ofRun runId: String, from: Int, timeoutMs: UInt32, by caller: Caller,
                       abandon: () -> Bool = { false }) throws(EngineError) -> (events: [RunEvent], run: RunSnapshot) {
        guard from >= 0 else { throw EngineError(.invalidArgument, "from must be 0 or more, not \(from)") }
        let deadlineNs = MonotonicClock.nanoseconds() &+ UInt64(timeoutMs) &* 1_000_000
        let run = try change { (state) throws(EngineError) in
            let run = try state.run(runId, by: caller)
            run.eventWatchers += 1
            return run
        }
        defer { change { _ in run.eventWatchers -= 1 } }
        while true {
            let (events, snapshot, seen) = read { _ in
                (run.events.count > from ? Array(run.events[from...]) : [], run.snapshot, run.signal.current)
            }
            if !events.isEmpty || snapshot.status.isTerminal { return (events, snapshot) }
            if abandon() || !run.signal.wait(past: seen, untilNs: deadlineNs) { return ([], snapshot) }
        }
    }

    /// Wakes every blocked wait() so it checks its `abandon` condition again.
    public func wakeWaiters() {
        let active = read { state in state.runs.values.filter { !$0.status.isTerminal } }
        for run in active { run.signal.notify() }
    }

    /// Whether the run has been asked to stop (cancelled, deleted, timed out, host stopping).
    /// `serving`: the caller's tools are serving this run right now, so it may ask about it.
    public func stopRequested(runId: String, by caller: Caller, serving: Bool) throws(EngineError) -> Bool {
        try read { (state) throws(EngineError) in
            guard let run = serving ? state.runs[runId] : try state.run(runId, by: caller) else {
                throw EngineError(.notFound, "no run with id '\(runId)'")
            }
            if run.status.isTerminal { return true }
            return run.stopRequest != nil || state.stopping || (run.status == .running && MonotonicClock.nanoseconds() >= run.deadlineNs)
        }
    }

    public func run(_ runId: String) -> RunSnapshot? { read { $0.runs[runId]?.snapshot } }

    /// The transcript; `limit` > 0 keeps only the last `limit` messages.
    public func transcript(sessionKey: String, limit: Int = 0, by caller: Caller) throws(EngineError) -> [Message] {
        let messages = try read { (state) throws(EngineError) in try state.session(sessionKey, by: caller).transcript }
        return limit > 0 ? Array(messages.suffix(limit)) : messages
    }

    public func transcriptJSON(sessionKey: String, limit: Int = 0, by caller: Caller) throws(EngineError) -> String {
        let messages = try transcript(sessionKey: sessionKey, limit: limit, by: caller)
        return JSON.object([("sessionKey", .string(sessionKey)), ("messages", .array(messages.map(\.json)))]).description
    }

    /// The session's description; metadata shows only the caller's own namespace.
    public func sessionJSON(sessionKey: String, for caller: Caller) throws(EngineError) -> String {
        try read { (state) throws(EngineError) in
            let s = try state.session(sessionKey, by: caller)
            let members: [(String, JSON)] = [
                ("key", .string(s.key)), ("id", .string(s.id)), ("state", .string(s.state.rawValue)),
                ("owner", .string(s.owner.label)), ("parentKey", JSON(s.parentKey)), ("model", .string(s.model)), ("label", JSON(s.label)),
                ("systemPrompt", JSON(s.systemPrompt)), ("toolPolicy", s.toolPolicy.json),
                ("timeoutSeconds", JSON(s.timeoutSeconds)), ("metadata", s.metadata[caller.namespace] ?? .object([])),
                ("createdAt", JSON(s.createdAtMs)), ("messages", JSON(s.transcript.count)),
                ("runs", ["total": JSON(s.runCount), "active": JSON(s.queue.count)]),
            ]
            return JSON.object(members).description
        }
    }

    /// One line's worth about a session, for listings.
    public struct SessionSummary: Sendable {
        public var key: String
        public var owner: String
        public var model: String
        public var label: String?
        public var state: SessionState
        public var messages: Int
        public var createdAtMs: UInt64
    }

    /// What happened in a run, in order.
    public func events(ofRun id: String, by caller: Caller) throws(EngineError) -> [RunEvent] {
        try read { (state) throws(EngineError) in try state.run(id, by: caller).events }
    }

    /// Every session, oldest first.
    public var sessionSummaries: [SessionSummary] {
        read { state in
            state.sessions.values.sorted { ($0.createdAtMs, $0.key) < ($1.createdAtMs, $1.key) }.map {
                SessionSummary(key: $0.key, owner: $0.owner.label, model: $0.model, label: $0.label, state: $0.state,
                               messages: $0.transcript.count, createdAtMs: $0.createdAtMs)
            }
        }
    }

    /// Runs of a session that the engine still remembers, oldest first.
    public func runs(ofSession key: String) -> [RunSnapshot] {
        read { state in
            let ended = state.retention.remembered.filter { state.runs[$0]?.sessionKey == key }
            let active = state.sessions[key]?.queue.map(\.id) ?? []
            return (ended + active).compactMap { state.runs[$0]?.snapshot }
        }
    }

    /// The caller's own metadata namespace on a session ({} when unset).
    public func metadata(sessionKey: String, by caller: Caller) throws(EngineError) -> JSON {
        try read { (state) throws(EngineError) in try state.session(sessionKey, by: caller).metadata[caller.namespace] ?? .object([]) }
    }

    /// Replaces the caller's own metadata namespace on a session; the store keeps it.
    public func setMetadata(sessionKey: String, _ value: JSON, by caller: Caller) throws(EngineError) {
        try InputLimits.checkMetadata(value, "metadata")
        try change { (state) throws(EngineError) in
            let s = try state.session(sessionKey, by: caller)
            s.metadata[caller.namespace] = value
            state.persist(s, metadata: [caller.namespace: value])
        }
    }

    /// Keys of every session, oldest first.
    public var sessionKeys: [String] { sessionSummaries.map(\.key) }

    /// Deletes the session; its active run is cancelled, queued ones end at once.
    /// Returns once the store (if any) has committed the deletion.
    public func deleteSession(_ sessionKey: String, by caller: Caller) throws(EngineError) {
        let commit = try change { (state) throws(EngineError) in state.delete(try state.session(sessionKey, by: caller)) }
        if let commit { commit.store.waitUntilCommitted(commit.ticket) }
        for provider in catalog.providers { provider.sessionEnded(sessionKey) }
    }

    /// Cancels a queued or running run. Ended runs stay as they are.
    public func cancelRun(_ runId: String, by caller: Caller) throws(EngineError) {
        try change { (state) throws(EngineError) in
            let run = try state.run(runId, by: caller)
            guard !run.status.isTerminal, let s = state.sessions[run.sessionKey] else { return }
            state.stop(run, in: s, status: .cancelled, reason: "cancelled by \(run.owner == .operator ? "the operator" : "request")")
        }
    }

    // MARK: - Steering

    public enum SteerOutcome: Equatable, Sendable {
        case queued, noSession, noActiveRun, notStreaming, compacting
        /// The run already holds `maxPendingSteers` undelivered texts.
        case busy
    }

    /// Undelivered steering texts a run holds at most: a caller cannot flood a run.
    public static let maxPendingSteers = 32

    /// Queues text for the session's running run, delivered at its next tool-call or turn boundary.
    public func steer(sessionKey: String, text: String, by caller: Caller) throws(EngineError) -> SteerOutcome {
        try InputLimits.check(text, "text", max: InputLimits.messageBytes, required: true)
        return change { state in
            guard let s = state.sessions[sessionKey], access.mayUse(s, by: caller) else { return .noSession }
            if s.state == .compacting { return .compacting }
            guard let run = s.activeRun else { return .noActiveRun }
            guard run.status == .running, s.state == .streaming, run.stopRequest == nil else { return .notStreaming }
            guard run.pendingSteers.count < Engine.maxPendingSteers else { return .busy }
            run.pendingSteers.append(text)
            return .queued
        }
    }

    public enum StreamingAnswer: Equatable, Sendable {
        case streaming(Bool)
        case noSession
        /// The session belongs to another caller, and the asker may not reach it.
        case denied
    }

    /// Whether the session with these key bytes is streaming, for `caller`, whose number
    /// (see number(of:)) is `callerNumber`; `fullAccess` skips the ownership check. Lock-free
    /// for the caller's own sessions and for unknown keys (ownSessionStreams, the state index);
    /// `caller` is built only for the slow path (a session the caller did not create, which it
    /// may still reach through a namespace, or a key longer than any C caller can pass), under
    /// the lock.
    public func isStreaming(sessionKey: UnsafeRawBufferPointer, caller: @autoclosure () -> Caller, callerNumber: UInt32,
                            fullAccess: Bool) -> StreamingAnswer {
        if let streaming = ownSessionStreams(sessionKey: sessionKey, callerNumber: callerNumber, fullAccess: fullAccess) {
            return .streaming(streaming)
        }
        if sessionKey.count <= SessionStateIndex.maxKeyBytes, stateIndex.lookup(sessionKey) == nil { return .noSession }
        return isStreamingUnderLock(sessionKey, caller())
    }

    /// isStreaming's lock-free answer alone, for the caller numbered `callerNumber` asking about a
    /// session it created (or any, with `fullAccess`); nil when that is not the case or the key
    /// is not indexed, and only isStreaming can answer.
    private func ownSessionStreams(sessionKey: UnsafeRawBufferPointer, callerNumber: UInt32, fullAccess: Bool) -> Bool? {
        guard let entry = stateIndex.lookup(sessionKey), fullAccess || entry.owner == callerNumber else { return nil }
        return entry.streaming
    }

    /// ownSessionStreams for a NUL-terminated key, trying first where the caller's last lookup,
    /// kept in `hint`, found its key. The host's hot path: no lock, and for a caller polling one
    /// session neither a hash nor a probe.
    package func ownSessionStreams(cString sessionKey: UnsafePointer<CChar>, callerNumber: UInt32, fullAccess: Bool,
                                  hint: borrowing LookupHint) -> Bool? {
        guard let entry = stateIndex.lookup(cString: sessionKey, hint: hint), fullAccess || entry.owner == callerNumber else { return nil }
        return entry.streaming
    }

    private func isStreamingUnderLock(_ sessionKey: UnsafeRawBufferPointer, _ caller: Caller) -> StreamingAnswer {
        let key = String(decoding: sessionKey, as: UTF8.self)
        return read { state in
            guard let session = state.sessions[key] else { return .noSession }
            return access.mayUse(session, by: caller) ? .streaming(session.state == .streaming) : .denied
        }
    }

    // MARK: - Rate limits, status, models

    /// The plugin's own limiter: its keys never meet another plugin's.
    public func rateLimiter(forPlugin id: String) -> SlidingWindowLimiter {
        limiters.withLock { limiters in
            if let limiter = limiters[id] { return limiter }
            let limiter = SlidingWindowLimiter(maxKeys: config.rateLimitMaxKeysPerPlugin, keysGauge: metrics.rateLimitKeys(plugin: id))
            limiters[id] = limiter
            return limiter
        }
    }

    /// Adds a loaded or refused plugin to what the status summary lists.
    public func addPlugin(_ summary: PluginSummary) {
        change { state in
            state.plugins.append(summary)
            if summary.state == "loaded" { state.pluginNamespaces.insert(summary.id) }
        }
    }

    public var status: StatusReport {
        read { state in
            var states: [SessionState: Int] = [.idle: 0]
            for s in state.sessions.values { states[s.state, default: 0] += 1 }
            let active = state.runs.values.filter { !$0.status.isTerminal }
            let queued = active.filter { $0.status == .queued }.count
            return StatusReport(hostVersion: config.hostVersion, abiVersion: config.abiVersion,
                                uptimeMs: (MonotonicClock.nanoseconds() - startedNs) / 1_000_000, plugins: state.plugins,
                                sessionStates: states, queuedRuns: queued, runningRuns: active.count - queued,
                                endedRuns: state.endedCounts, guards: state.guards.json,
                                defaultModel: catalog.defaultModel, modelCount: catalog.descriptors.count)
        }
    }

    public func statusJSON() -> String { status.json.description }

    public func modelsJSON() -> String { catalog.json.description }

    /// A gateway method on behalf of a plugin: only the read-only allowlist is served.
    public func gatewayRequest(method: String, params: JSON?) throws(EngineError) -> String {
        switch method {
        case "status": return statusJSON()
        case "models.list": return modelsJSON()
        case let known where GatewayMethods.all.contains(known):
            throw EngineError(.denied, "gateway method '\(method)' is not available to plugins: only the read-only methods \(GatewayMethods.pluginAllowlist.joined(separator: ", ")) are")
        default:
            throw EngineError(.unsupported, "no gateway method '\(method)' (plugins may call \(GatewayMethods.pluginAllowlist.joined(separator: ", ")))")
        }
    }

    // MARK: - Runs at work

    /// The session's worker: runs its queue until it is empty. `takingOver` continues the
    /// first run where a worker left in a plugin's gate stopped (takeOver).
    private func drain(_ session: Session, takingOver: (@Sendable () -> AgentLoop.Outcome?)? = nil) {
        var takingOver = takingOver
        while let run = read({ _ in session.queue.first }) {
            let outcome: AgentLoop.Outcome?
            if let resume = takingOver {
                takingOver = nil
                outcome = resume()
            } else {
                change { $0.start(run, in: session) }
                outcome = AgentLoop(RunContext(engine: self, run: run, session: session)).execute()
            }
            // Moved on: another worker drains the session now; this thread belongs to the plugin that kept it.
            guard let outcome else { return }
            run.scratch.value = nil  // its turns are over: an ended run is remembered within its byte budget, without it
            change { $0.finish(run, in: session, status: outcome.status, text: outcome.text, error: outcome.error) }
        }
        change { state in
            // A run queued between the last check and now still finds this worker.
            guard session.queue.isEmpty else {
                state.actions.startWorkers.append(session)
                return
            }
            state.drained(session)
        }
        lock.broadcast()
    }

    /// Carries a session's run on on another worker from where `resume` picks it up: its
    /// worker is stuck in a plugin's gate past the deadline and is left to the plugin.
    func takeOver(_ session: Session, resume: @escaping @Sendable () -> AgentLoop.Outcome?) {
        runWorkers.submit { [self] in drain(session, takingOver: resume) }
    }

    /// Sleeps up to `nanoseconds`, waking early to throw if the run must stop.
    func pause(_ run: Run, nanoseconds: UInt64) throws {
        let untilNs = MonotonicClock.nanoseconds() &+ nanoseconds
        while true {
            let seen = try read { _ throws in
                try checkStop(run)
                return run.signal.current
            }
            let now = MonotonicClock.nanoseconds()
            if now >= untilNs { return }
            run.signal.wait(past: seen, untilNs: min(untilNs, run.deadlineNs))
        }
    }

    /// Throws the run's stop (cancellation, shutdown, timeout) if it has one. Lock held.
    func checkStop(_ run: Run) throws {
        if let request = run.stopRequest { throw RunStop(status: request.status, reason: request.reason) }
        if MonotonicClock.nanoseconds() >= run.deadlineNs {
            throw RunStop(status: .timedOut, reason: "the run passed its timeout of \((run.deadlineNs - run.startedNs) / 1_000_000_000) s")
        }
    }

    // MARK: - Shutdown

    /// Stops taking work and lets the runs at work end by themselves, waiting up to `timeout`
    /// for them; true when none is left. A server's graceful stop: stopRuns comes after it.
    @discardableResult
    public func finishRuns(timeout: TimeInterval) -> Bool {
        change { $0.stopping = true }
        let deadline = Date(timeIntervalSinceNow: timeout)
        lock.lock()
        defer { lock.unlock() }
        while state.guards.sessionsAtWork > 0, lock.wait(until: deadline) {}
        return state.guards.sessionsAtWork == 0
    }

    /// Stops taking work, interrupts every run (the operator's and plugins' alike) and waits,
    /// up to `timeout`, for the workers to end. The first step of a host's shutdown: plugins
    /// stop after it, so no run goes on once a policy plugin's gates are gone.
    public func stopRuns(timeout: TimeInterval = 10) {
        change { state in
            state.stopping = true
            for s in state.sessions.values {
                for run in s.queue { state.stop(run, in: s, status: .interrupted, reason: "the host shut down while it ran") }
            }
        }
        let deadline = Date(timeIntervalSinceNow: timeout)
        lock.lock()
        while state.guards.sessionsAtWork > 0, lock.wait(until: deadline) {}
        lock.unlock()
    }

    /// The last step of a shutdown: withdraws every hook, flushes the store and shuts the providers down.
    public func close() {
        hooks.removeAll()
        for provider in catalog.providers { provider.shutdown() }
        change { state in
            defer { state.writer = nil }
            return state.writer
        }?.close()
    }

    /// stopRuns, then close: for an engine without plugins.
    public func shutdown(timeout: TimeInterval = 10) {
        stopRuns(timeout: timeout)
        close()
    }
}

/// Why a run's loop ended early.
struct RunStop: Error {
    let status: RunStatus
    let reason: String
}

extension Caller {
    /// The metadata namespace of this caller.
    public var namespace: String {
        switch self {
        case .plugin(let id): return id
        case .operator: return "operator"
        }
    }
}

enum SessionKeys {
    static func make(for caller: Caller) -> String {
        switch caller {
        case .plugin(let id): return "plugin:\(id):\(timeOrdered())"
        case .operator: return "operator:\(timeOrdered())"
        }
    }

    static func runId() -> String { "run-" + timeOrdered() }

    /// Eleven hex digits of the wall clock in milliseconds, then twelve random ones: keys and
    /// ids made later sort later, so the store's indexes (sessions, messages, runs, events) take
    /// them at their ends instead of on random pages: a third more runs per second with SQLite,
    /// measured. The random tail keeps them apart and is what the session state index hashes.
    static func timeOrdered() -> String {
        Hex.string(WallClock.milliseconds(), digits: 11) + Hex.string(RandomWords.next() & 0xFFFF_FFFF_FFFF, digits: 12)
    }
}
