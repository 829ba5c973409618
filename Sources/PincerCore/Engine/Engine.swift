// The engine: sessions, runs and the agent loop behind every host function.
//
// One lock (with its condition) guards sessions and runs; waits, pauses and
// cancellations all use that condition. Each session with work gets a worker
// thread that runs its queued runs one after another, so a slow model or tool
// in one session never holds up another, and blocking plugin code (tools,
// hooks) never starves a shared pool. Callers are synchronous (C threads), so
// nothing here is async.

import Foundation
import Synchronization

// @unchecked: its mutable state is guarded by `lock` (an NSCondition), the rest is let or Sendable.
public final class Engine: @unchecked Sendable {
    public let config: EngineConfig
    public let tools: ToolRegistry
    public let catalog: ModelCatalog
    /// Plugins' hooks: gates the engine waits for, observers it tells.
    public let hooks: HookRegistry
    private let logSink: LogSink

    let lock = NSCondition()
    private var sessions: [String: Session] = [:]
    private var runs: [String: Run] = [:]
    private var endedRunIds: [String] = []
    private var endedRunIdsHead = 0
    /// Bytes the remembered ended runs hold (messages, texts, events): bounded by config.retainedRunBytes.
    private var retainedRunBytes = 0
    /// Plugin-spawned sessions with a queued or running run (the concurrency guard).
    private var activeSpawned = Set<String>()
    /// The operator's child sessions (from sessions_spawn) with an active run.
    private var activeChildren = Set<String>()
    /// Bytes of user messages in runs that have not started, per caller (InputLimits.queuedMessageBytes).
    private var queuedBytes: [Caller: Int] = [:]
    /// Namespaces a creator may seed with metadata: loaded plugins' ids.
    private var pluginNamespaces = Set<String>()
    private var workers = 0
    /// The parked threads sessions' runs drain on.
    private let runWorkers = ParkedThreads(name: "pincer-run")
    private var stopping = false
    private var plugins: [PluginSummary] = []
    private var endedCounts: [RunStatus: Int] = [:]
    private let spawnWindow = SlidingWindowLimiter(maxKeys: 1)
    private let stateIndex = SessionStateIndex()
    private let limiters = Mutex<[String: SlidingWindowLimiter]>([:])
    private let startedNs = MonotonicClock.nanoseconds()
    /// Commits to the store, when there is one.
    private var writer: (any SessionStore)?
    /// Each caller's number in the state index: 0 is the operator.
    private let callerNumbers = Mutex<[Caller: UInt32]>([.operator: 0])

    public static let gatewayAllowlist = ["status", "models.list"]
    /// Every gateway method the host has; a plugin may call only the allowlist.
    public static let gatewayMethods = ["health", "status", "models.list", "plugins.list", "sessions.list", "sessions.get",
                                        "sessions.create", "sessions.prompt", "sessions.steer", "sessions.delete",
                                        "sessions.messages", "runs.wait", "runs.subscribe"]

    /// - Parameter providers: every model the engine can run (its catalog); nil: the built-in local
    ///   model alone. The engine owns them: close() shuts them down.
    /// - Parameter store: where sessions outlive the process; nil keeps them in memory only.
    ///   Everything stored is read back now; runs a previous process left in flight are marked interrupted.
    public init(config: EngineConfig = EngineConfig(), providers: [any ModelProvider]? = nil,
                tools: ToolRegistry = ToolRegistry(), store: (any SessionStore)? = nil) throws(EngineError)
    {
        self.config = config
        self.tools = tools
        let logSink = LogSink()
        self.logSink = logSink
        hooks = HookRegistry(defaultDeadlineMs: config.hookDeadlineMs, log: { logSink.write($0) })
        catalog = try ModelCatalog(providers: providers ?? [LocalModel(tokenDelayMs: config.tokenDelayMs)], defaultModel: config.defaultModel)
        if tools.tool(named: "sessions_spawn") == nil {
            for tool in SessionTools.all(for: self) { try tools.register(tool) }
        }
        if let store {
            try restore(from: store)
            store.startWriting(log: { [weak self] line in self?.log(line) })
            writer = store
        }
    }

    /// Runs found in flight when the store was opened (now interrupted).
    public private(set) var interruptedAtStart = 0

    private func restore(from store: any SessionStore) throws(EngineError) {
        let state = try store.load(runLimit: config.retainedRuns)
        interruptedAtStart = state.interrupted
        for stored in state.sessions {
            let session = Session(restoring: stored)
            sessions[session.key] = session
            stateIndex.set(session.key, .idle, owner: number(of: session.owner))
        }
        for stored in state.runs {
            let run = Run(restoring: stored)
            runs[run.id] = run
            if run.status.isTerminal { endedCounts[run.status, default: 0] += 1 }
            remember(ended: run)
        }
    }

    /// Where the engine reports what an operator should see (denied tool calls, …).
    public func setLog(_ sink: @escaping @Sendable (String) -> Void) { logSink.set(sink) }

    func log(_ line: String) { logSink.write(line) }

    /// The caller's number in the session state index (stable for the engine's life).
    public func number(of caller: Caller) -> UInt32 {
        callerNumbers.withLock { numbers in
            if let n = numbers[caller] { return n }
            let n = UInt32(numbers.count)
            numbers[caller] = n
            return n
        }
    }

    /// Whether `caller` may use sessions it did not create.
    public func hasFullSessionAccess(_ caller: Caller) -> Bool {
        switch caller {
        case .operator: return true
        case .plugin(let id): return config.fullSessionAccess.contains(id)
        }
    }

    /// Whether `caller` may use the session: its own, or any with full access.
    /// Its creator's, a holder's of a metadata namespace on it (handing a plugin a namespace
    /// shares the session with it), or anyone's with full session access. Lock held.
    private func mayUse(_ session: Session, by caller: Caller) -> Bool {
        if session.owner == caller || hasFullSessionAccess(caller) { return true }
        if case .plugin(let id) = caller { return session.metadata[id] != nil }
        return false
    }

    /// The session under `key` that `caller` may use. One it may not use is reported
    /// exactly like one that does not exist: a plugin learns nothing of others' sessions. Lock held.
    private func session(_ key: String, by caller: Caller) throws(EngineError) -> Session {
        guard let s = sessions[key], mayUse(s, by: caller) else { throw EngineError(.notFound, "no session with key '\(key)'") }
        return s
    }

    /// The plugins whose hooks see the session beside those that may use it: every plugin
    /// holding a metadata namespace on it. Lock held.
    func namespaceHolders(of session: Session) -> Set<String> { Set(session.metadata.keys) }

    /// Why a session of `owner` may not use `tool` because another plugin registered it, or nil.
    func otherPluginsToolRefusal(_ tool: ToolDefinition, for owner: Caller) -> String? {
        guard case .plugin(let id) = owner, let toolOwner = tool.owner, toolOwner != id, !config.otherPluginsTools.contains(id) else { return nil }
        return "tool '\(tool.name)' belongs to plugin '\(toolOwner)'; sessions of plugin '\(id)' may use only the host's tools and its own (set plugins.entries.\(id).useOtherPluginsTools = true to allow)"
    }

    /// Refuses a spawn whose allow list names, exactly, a tool the caller may not add to its sessions.
    private func checkNamedTools(_ policy: ToolPolicy, by caller: Caller) throws(EngineError) {
        for name in policy.allow {
            if let tool = tools.tool(named: name), let reason = otherPluginsToolRefusal(tool, for: caller) {
                throw EngineError(.denied, "tools_allow names \(reason)")
            }
        }
    }

    /// Refuses a model a plugin did not get the operator's leave to choose.
    private func checkModelOverride(_ model: String?, by caller: Caller) throws(EngineError) {
        guard case .plugin(let id) = caller, let model, model != catalog.defaultModel else { return }
        guard let grant = config.modelOverrides[id] else {
            throw EngineError(.denied, "plugin '\(id)' may not choose the model ('\(model)'): set plugins.entries.\(id).allowModelOverride = true")
        }
        if let allowed = grant, !allowed.contains(model) {
            throw EngineError(.denied, "model '\(model)' is not in plugins.entries.\(id).allowedModels (\(allowed.joined(separator: ", ")))")
        }
    }

    // MARK: - Sessions

    /// Creates a session and queues its first run. A plugin caller is held to
    /// the spawn guards; the operator is not. before_session_create hooks may
    /// patch or block it first (outside the lock); session_created hooks hear of it after the write.
    public func spawn(_ spec: SessionSpec, by caller: Caller) throws(EngineError) -> (sessionKey: String, runId: String) {
        try checkModelOverride(spec.model, by: caller)
        try validate(spec)
        try checkNamedTools(spec.toolPolicy, by: caller)
        var spec = spec
        let model = spec.model ?? catalog.defaultModel
        let timeout = spec.timeoutSeconds.flatMap { $0 > 0 ? $0 : nil } ?? config.defaultRunTimeoutSeconds
        let key = SessionKeys.make(for: caller), id = UUID().uuidString.lowercased(), runId = SessionKeys.runId()
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
        do {
            lock.lock()
            defer { lock.unlock() }
            guard !stopping else { throw EngineError(.shuttingDown, "the host is shutting down; no new sessions") }
            if case .plugin = caller { try admitSpawn() } else if spec.parentKey != nil { try admitChild() }
            try checkNamespaces(metadata, by: caller)
            let session = Session(key: key, id: id, owner: caller, spec: spec, model: model, timeoutSeconds: timeout)
            session.metadata = metadata
            if let prompt = spec.systemPrompt { session.transcript.append(Message(role: .system, content: prompt)) }
            sessions[key] = session
            stateIndex.set(key, .idle, owner: number(of: caller))
            let run = enqueueRun(in: session, message: spec.message, by: caller, id: runId)
            // Nothing can come before the first run's message: record it now, in the session's own write.
            session.transcript.append(Message(role: .user, content: run.message, runId: run.id))
            run.messageRecorded = true
            persist(session, runs: [run], isNew: true)
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
        let parent: (owner: Caller, policy: ToolPolicy, model: String) = try withLock {
            let p = try session(parentKey)
            return (p.owner, p.toolPolicy, p.model)
        }
        spec.parentKey = parentKey
        spec.toolPolicy = parent.policy.narrowed(by: spec.toolPolicy)
        spec.model = parent.model
        return try spawn(spec, by: parent.owner)
    }

    /// Who owns a session (a session tool acts with its owner's rights).
    func owner(of sessionKey: String) throws(EngineError) -> Caller {
        lock.lock()
        defer { lock.unlock() }
        return try session(sessionKey).owner
    }

    /// Queues a follow-up message as a new run behind any active one. Bounded: runs per
    /// session, queued message bytes per caller, and (for a plugin's idle session) the spawn guard.
    public func prompt(sessionKey: String, text: String, by caller: Caller) throws(EngineError) -> String {
        try InputLimits.check(text, "text", max: InputLimits.messageBytes, required: true)
        lock.lock()
        defer { lock.unlock() }
        guard !stopping else { throw EngineError(.shuttingDown, "the host is shutting down; no new runs") }
        let session = try session(sessionKey, by: caller)
        if session.queue.count >= InputLimits.queuedRuns {
            throw EngineError(.limit, "session '\(sessionKey)' already holds \(session.queue.count) queued or running runs (at most PINCER_MAX_QUEUED_RUNS = \(InputLimits.queuedRuns))")
        }
        let queued = queuedBytes[caller, default: 0]
        if queued + text.utf8.count > InputLimits.queuedMessageBytes {
            throw EngineError(.limit, "\(caller.label) already has \(queued) bytes of messages queued in runs not yet started (at most PINCER_MAX_QUEUED_MESSAGE_BYTES = \(InputLimits.queuedMessageBytes))")
        }
        if case .plugin = session.owner, !activeSpawned.contains(session.key), activeSpawned.count >= config.maxConcurrentSpawns {
            throw EngineError(.limit, "prompt refused: \(activeSpawned.count) plugin-spawned sessions are already running (guards.maxConcurrentSpawns = \(config.maxConcurrentSpawns))")
        }
        let run = enqueueRun(in: session, message: text, by: caller)
        persist(session, runs: [run])
        return run.id
    }

    /// Blocks until the run ends, `timeoutMs` passes or `abandon` (checked at every wake-up,
    /// see wakeWaiters) says to stop; returns the run's state either way.
    public func wait(runId: String, timeoutMs: UInt32, by caller: Caller, abandon: () -> Bool = { false }) throws(EngineError) -> RunSnapshot {
        let deadline = Date(timeIntervalSinceNow: Double(timeoutMs) / 1000)
        lock.lock()
        defer { lock.unlock() }
        let run = try self.run(runId, by: caller)
        while !run.status.isTerminal, !abandon(), lock.wait(until: deadline) {}
        let snapshot = run.snapshot
        if snapshot.status.isTerminal, let writer, run.writeSequence > 0 {
            // Report an end only once the store holds it.
            let sequence = run.writeSequence
            lock.unlock()
            writer.waitUntilCommitted(sequence)
            lock.lock()
        }
        return snapshot
    }

    /// Wakes every blocked wait() so it checks its `abandon` condition again.
    public func wakeWaiters() {
        lock.lock()
        lock.broadcast()
        lock.unlock()
    }

    /// Whether the run has been asked to stop (cancelled, deleted, timed out, host stopping).
    /// `serving`: the caller's tools are serving this run right now, so it may ask about it.
    public func stopRequested(runId: String, by caller: Caller, serving: Bool) throws(EngineError) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let run = serving ? runs[runId] : try self.run(runId, by: caller) else {
            throw EngineError(.notFound, "no run with id '\(runId)'")
        }
        if run.status.isTerminal { return true }
        return run.stopRequest != nil || stopping || (run.status == .running && MonotonicClock.nanoseconds() >= run.deadlineNs)
    }

    public func run(_ runId: String) -> RunSnapshot? {
        lock.lock()
        defer { lock.unlock() }
        return runs[runId]?.snapshot
    }

    /// The transcript; `limit` > 0 keeps only the last `limit` messages.
    public func transcript(sessionKey: String, limit: Int = 0, by caller: Caller) throws(EngineError) -> [Message] {
        lock.lock()
        defer { lock.unlock() }
        let session = try session(sessionKey, by: caller)
        let messages = session.transcript
        return limit > 0 ? Array(messages.suffix(limit)) : messages
    }

    public func transcriptJSON(sessionKey: String, limit: Int = 0, by caller: Caller) throws(EngineError) -> String {
        let messages = try transcript(sessionKey: sessionKey, limit: limit, by: caller)
        return JSON.object([("sessionKey", .string(sessionKey)), ("messages", .array(messages.map(\.json)))]).description
    }

    /// The session's description; metadata shows only the caller's own namespace.
    public func sessionJSON(sessionKey: String, for caller: Caller) throws(EngineError) -> String {
        lock.lock()
        defer { lock.unlock() }
        let s = try session(sessionKey, by: caller)
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
        lock.lock()
        defer { lock.unlock() }
        return try run(id, by: caller).events
    }

    /// Every session, oldest first.
    public var sessionSummaries: [SessionSummary] {
        lock.lock()
        defer { lock.unlock() }
        return sessions.values.sorted { ($0.createdAtMs, $0.key) < ($1.createdAtMs, $1.key) }.map {
            SessionSummary(key: $0.key, owner: $0.owner.label, model: $0.model, label: $0.label, state: $0.state,
                           messages: $0.transcript.count, createdAtMs: $0.createdAtMs)
        }
    }

    /// Runs of a session that the engine still remembers, oldest first.
    public func runs(ofSession key: String) -> [RunSnapshot] {
        lock.lock()
        defer { lock.unlock() }
        let ids = endedRunIds[endedRunIdsHead...].filter { runs[$0]?.sessionKey == key }
        let active = sessions[key]?.queue.map(\.id) ?? []
        return (ids + active).compactMap { runs[$0]?.snapshot }
    }

    /// The caller's own metadata namespace on a session ({} when unset).
    public func metadata(sessionKey: String, by caller: Caller) throws(EngineError) -> JSON {
        lock.lock()
        defer { lock.unlock() }
        let s = try session(sessionKey, by: caller)
        return s.metadata[caller.namespace] ?? .object([])
    }

    /// Replaces the caller's own metadata namespace on a session; the store keeps it.
    public func setMetadata(sessionKey: String, _ value: JSON, by caller: Caller) throws(EngineError) {
        try InputLimits.checkMetadata(value, "metadata")
        lock.lock()
        defer { lock.unlock() }
        let s = try session(sessionKey, by: caller)
        s.metadata[caller.namespace] = value
        persist(s, metadata: [caller.namespace: value])
    }

    /// Keys of every session, oldest first.
    public var sessionKeys: [String] { sessionSummaries.map(\.key) }

    /// Deletes the session; its active run is cancelled, queued ones end at once.
    /// Returns once the store (if any) has committed the deletion.
    public func deleteSession(_ sessionKey: String, by caller: Caller) throws(EngineError) {
        lock.lock()
        let s: Session
        do {
            s = try session(sessionKey, by: caller)
        } catch {
            lock.unlock()
            throw error
        }
        sessions[sessionKey] = nil
        stateIndex.remove(sessionKey)
        for run in s.queue { stop(run, in: s, status: .cancelled, reason: "its session was deleted") }
        let sequence = writer?.enqueue(.deleteSession(sessionKey))
        lock.broadcast()
        lock.unlock()
        if let sequence { writer?.waitUntilCommitted(sequence) }
    }

    /// Cancels a queued or running run. Ended runs stay as they are.
    public func cancelRun(_ runId: String, by caller: Caller) throws(EngineError) {
        lock.lock()
        defer { lock.unlock() }
        let run = try self.run(runId, by: caller)
        guard !run.status.isTerminal, let s = sessions[run.sessionKey] else { return }
        stop(run, in: s, status: .cancelled, reason: "cancelled by \(run.owner == .operator ? "the operator" : "request")")
        lock.broadcast()
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
        lock.lock()
        defer { lock.unlock() }
        guard let s = sessions[sessionKey], mayUse(s, by: caller) else { return .noSession }
        if s.state == .compacting { return .compacting }
        guard let run = s.activeRun else { return .noActiveRun }
        guard run.status == .running, s.state == .streaming, run.stopRequest == nil else { return .notStreaming }
        guard run.pendingSteers.count < Engine.maxPendingSteers else { return .busy }
        run.pendingSteers.append(text)
        return .queued
    }

    public enum StreamingAnswer: Equatable, Sendable {
        case streaming(Bool)
        case noSession
        /// The session belongs to another caller, and the asker may not reach it.
        case denied
    }

    /// Whether the session with these key bytes is streaming, for the caller with
    /// this number (see number(of:)); `fullAccess` skips the ownership check.
    @inline(__always)
    public func isStreaming(sessionKey: UnsafeRawBufferPointer, caller: Caller, callerNumber: UInt32 = 0,
                            fullAccess: Bool = true) -> StreamingAnswer {
        guard let entry = stateIndex.lookup(sessionKey) else { return .noSession }
        if !fullAccess, entry.owner != callerNumber {
            // Not its creator: it may still hold a namespace on the session (the slow path, under the lock).
            let key = String(decoding: sessionKey, as: UTF8.self)
            guard withLock({ sessions[key].map { mayUse($0, by: caller) } ?? false }) else { return .denied }
        }
        return .streaming(entry.streaming)
    }

    // MARK: - Rate limits, status, models

    /// The plugin's own limiter: its keys never meet another plugin's.
    public func rateLimiter(forPlugin id: String) -> SlidingWindowLimiter {
        limiters.withLock { limiters in
            if let limiter = limiters[id] { return limiter }
            let limiter = SlidingWindowLimiter(maxKeys: config.rateLimitMaxKeysPerPlugin)
            limiters[id] = limiter
            return limiter
        }
    }

    /// Adds a loaded or refused plugin to what the status summary lists.
    public func addPlugin(_ summary: PluginSummary) {
        lock.lock()
        plugins.append(summary)
        if summary.state == "loaded" { pluginNamespaces.insert(summary.id) }
        lock.unlock()
    }

    public func statusJSON() -> String {
        lock.lock()
        defer { lock.unlock() }
        var states: [SessionState: Int] = [:]
        for s in sessions.values { states[s.state, default: 0] += 1 }
        let active = runs.values.filter { !$0.status.isTerminal }
        let status: JSON = .object([
            ("host", "pincer"), ("version", .string(config.hostVersion)), ("abi", .string(config.abiVersion)),
            ("uptimeMs", JSON((MonotonicClock.nanoseconds() - startedNs) / 1_000_000)),
            ("plugins", .array(plugins.map { p in
                var m: [(String, JSON)] = [("id", .string(p.id)), ("version", .string(p.version)), ("state", .string(p.state))]
                if let reason = p.reason { m.append(("reason", .string(reason))) }
                return .object(m)
            })),
            ("sessions", ["total": JSON(sessions.count), "idle": JSON(states[.idle] ?? 0),
                          "streaming": JSON(states[.streaming] ?? 0), "compacting": JSON(states[.compacting] ?? 0)]),
            ("runs", ["active": JSON(active.count), "queued": JSON(active.filter { $0.status == .queued }.count),
                      "running": JSON(active.filter { $0.status == .running }.count),
                      "completed": JSON(endedCounts[.completed] ?? 0), "failed": JSON(endedCounts[.failed] ?? 0),
                      "timedOut": JSON(endedCounts[.timedOut] ?? 0), "cancelled": JSON(endedCounts[.cancelled] ?? 0)]),
            ("guards", ["maxConcurrentSpawns": JSON(config.maxConcurrentSpawns), "activeSpawns": JSON(activeSpawned.count),
                        "maxSpawnsPerMinute": JSON(config.maxSpawnsPerMinute),
                        "maxConcurrentChildSessions": JSON(config.maxConcurrentChildSessions), "activeChildSessions": JSON(activeChildren.count)]),
            ("models", ["default": .string(catalog.defaultModel), "count": JSON(catalog.descriptors.count)]),
        ])
        return status.description
    }

    public func modelsJSON() -> String { catalog.json.description }

    /// A gateway method on behalf of a plugin: only the read-only allowlist is served.
    public func gatewayRequest(method: String, params: JSON?) throws(EngineError) -> String {
        switch method {
        case "status": return statusJSON()
        case "models.list": return modelsJSON()
        case let known where Engine.gatewayMethods.contains(known):
            throw EngineError(.denied, "gateway method '\(method)' is not available to plugins: only the read-only methods \(Engine.gatewayAllowlist.joined(separator: ", ")) are")
        default:
            throw EngineError(.unsupported, "no gateway method '\(method)' (plugins may call \(Engine.gatewayAllowlist.joined(separator: ", ")))")
        }
    }

    // MARK: - Shutdown

    /// Stops taking work, interrupts every run (the operator's and plugins' alike) and waits,
    /// up to `timeout`, for the workers to end. The first step of a host's shutdown: plugins
    /// stop after it, so no run goes on once a policy plugin's gates are gone.
    public func stopRuns(timeout: TimeInterval = 10) {
        lock.lock()
        defer { lock.unlock() }
        stopping = true
        for s in sessions.values {
            for run in s.queue { stop(run, in: s, status: .interrupted, reason: "the host shut down while it ran") }
        }
        lock.broadcast()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while workers > 0, lock.wait(until: deadline) {}
    }

    /// The last step of a shutdown: withdraws every hook, flushes the store and shuts the providers down.
    public func close() {
        hooks.removeAll()
        for provider in catalog.providers { provider.shutdown() }
        let closing = withLock { () -> (any SessionStore)? in
            defer { writer = nil }
            return writer
        }
        closing?.close()
    }

    /// stopRuns, then close: for an engine without plugins.
    public func shutdown(timeout: TimeInterval = 10) {
        stopRuns(timeout: timeout)
        close()
    }

    // MARK: - Internals (called with the lock held)

    private func session(_ key: String) throws(EngineError) -> Session {
        guard let s = sessions[key] else { throw EngineError(.notFound, "no session with key '\(key)'") }
        return s
    }

    /// A run the caller may reach: one it started, or one of a session it may use; any
    /// other is reported like one that does not exist. Lock held.
    private func run(_ id: String, by caller: Caller) throws(EngineError) -> Run {
        guard let run = runs[id] else { throw EngineError(.notFound, "no run with id '\(id)'") }
        if run.owner == caller || hasFullSessionAccess(caller) { return run }
        if let session = sessions[run.sessionKey], mayUse(session, by: caller) { return run }
        throw EngineError(.notFound, "no run with id '\(id)'")
    }

    /// Refuses initial metadata for a namespace that is neither the creator's nor a loaded plugin's. Lock held.
    private func checkNamespaces(_ metadata: [String: JSON], by caller: Caller) throws(EngineError) {
        if metadata.count > InputLimits.metadataNamespaces {
            throw EngineError(.invalidArgument, "metadata_json has \(metadata.count) namespaces; at most PINCER_MAX_METADATA_NAMESPACES = \(InputLimits.metadataNamespaces)")
        }
        for namespace in metadata.keys where namespace != caller.namespace && !pluginNamespaces.contains(namespace) {
            throw EngineError(.invalidArgument, "metadata_json names namespace '\(namespace)', which is no loaded plugin's id")
        }
    }

    private func admitSpawn() throws(EngineError) {
        if activeSpawned.count >= config.maxConcurrentSpawns {
            throw EngineError(.limit, "spawn refused: \(activeSpawned.count) plugin-spawned sessions are already running (guards.maxConcurrentSpawns = \(config.maxConcurrentSpawns))")
        }
        guard config.maxSpawnsPerMinute > 0 else {
            throw EngineError(.limit, "spawn refused: plugin spawns are switched off (guards.maxSpawnsPerMinute = 0)")
        }
        let decision = spawnWindow.check(key: "spawns", maxRequests: UInt32(min(config.maxSpawnsPerMinute, 65535)), windowMs: 60_000)
        if !decision.allowed {
            throw EngineError(.limit, "spawn refused: \(config.maxSpawnsPerMinute) plugin spawns in the last minute (guards.maxSpawnsPerMinute = \(config.maxSpawnsPerMinute)); retry in \(decision.retryAfterMs) ms")
        }
    }

    /// The bound on the operator's sessions' children: no caller's model can create unbounded work.
    private func admitChild() throws(EngineError) {
        if activeChildren.count >= config.maxConcurrentChildSessions {
            throw EngineError(.limit, "sessions_spawn refused: \(activeChildren.count) child sessions of the operator's sessions are already running (guards.maxConcurrentChildSessions = \(config.maxConcurrentChildSessions))")
        }
    }

    private func enqueueRun(in session: Session, message: String, by caller: Caller, id: String = SessionKeys.runId()) -> Run {
        let run = Run(id: id, sessionKey: session.key, message: message, owner: caller)
        runs[run.id] = run
        queuedBytes[caller, default: 0] += message.utf8.count
        session.queue.append(run)
        session.runCount += 1
        if case .plugin = session.owner { activeSpawned.insert(session.key) } else if session.parentKey != nil { activeChildren.insert(session.key) }
        if !session.workerActive {
            session.workerActive = true
            workers += 1
            runWorkers.submit { [self] in drain(session) }
        }
        return run
    }

    /// Marks a run to stop. The running one stops at its next check; queued ones end now.
    private func stop(_ run: Run, in session: Session, status: RunStatus, reason: String) {
        if run === session.queue.first, run.status == .running {
            if run.stopRequest == nil {
                run.stopRequest = (status, reason)
                run.stopSignal.fire()
            }
        } else {
            finish(run, in: session, status: status, text: nil, error: reason)
        }
    }

    /// A run leaves the queue's byte budget when it starts, or ends without starting. Lock held.
    private func releaseQueuedBytes(of run: Run) {
        guard !run.leftQueue else { return }
        run.leftQueue = true
        queuedBytes[run.owner, default: 0] -= run.message.utf8.count
        if queuedBytes[run.owner] == 0 { queuedBytes[run.owner] = nil }
    }

    private func finish(_ run: Run, in session: Session, status: RunStatus, text: String?, error: String?) {
        guard !run.status.isTerminal else { return }
        releaseQueuedBytes(of: run)
        run.status = status
        run.finalText = text
        run.error = error
        run.endedNs = MonotonicClock.nanoseconds()
        var detail: [(String, JSON)] = [("status", .string(status.rawValue)), ("durationMs", JSON(run.snapshot.durationMs))]
        if let error { detail.append(("error", .string(error))) }
        // Observers get the final text too (the run's record has it as its last turn already).
        record(RunEvent(.finished, .object(detail)), in: run, of: session, announcing: text.map { [("finalText", .string($0))] } ?? [])
        endedCounts[status, default: 0] += 1
        if sessions[session.key] === session { persist(session, runs: [run]) }
        session.queue.removeAll { $0 === run }
        if session.state == .streaming { session.state = .idle }
        if sessions[session.key] === session { stateIndex.set(session.key, session.state, owner: number(of: session.owner)) }
        remember(ended: run)
    }

    /// Keeps an ended run for wait() and listings, forgetting the oldest beyond
    /// config.retainedRuns runs or config.retainedRunBytes bytes (the store keeps them all). Lock held.
    private func remember(ended run: Run) {
        endedRunIds.append(run.id)
        run.measureRetainedBytes()
        retainedRunBytes += run.retainedBytes
        while endedRunIds.count - endedRunIdsHead > config.retainedRuns
            || (retainedRunBytes > config.retainedRunBytes && endedRunIds.count - endedRunIdsHead > 1)
        {
            if let forgotten = runs.removeValue(forKey: endedRunIds[endedRunIdsHead]) { retainedRunBytes -= forgotten.retainedBytes }
            endedRunIdsHead += 1
        }
        if endedRunIdsHead > 4096 { endedRunIds.removeFirst(endedRunIdsHead); endedRunIdsHead = 0 }
    }

    /// The session's worker: runs its queue until it is empty. `takingOver` continues the
    /// first run where a worker left in a plugin's gate stopped (takeOver).
    private func drain(_ session: Session, takingOver: (@Sendable () -> AgentLoop.Outcome?)? = nil) {
        var takingOver = takingOver
        lock.lock()
        while let run = session.queue.first {
            let outcome: AgentLoop.Outcome?
            if let resume = takingOver {
                takingOver = nil
                lock.unlock()
                outcome = resume()
            } else {
                releaseQueuedBytes(of: run)
                run.status = .running
                run.startedNs = MonotonicClock.nanoseconds()
                run.deadlineNs = run.startedNs &+ UInt64(session.timeoutSeconds) &* 1_000_000_000
                session.state = .streaming
                if sessions[session.key] === session { stateIndex.set(session.key, .streaming, owner: number(of: session.owner)) }
                if !run.messageRecorded {
                    session.transcript.append(Message(role: .user, content: run.message, runId: run.id))
                    run.messageRecorded = true
                    persist(session)
                }
                lock.unlock()
                outcome = AgentLoop(engine: self, run: run, session: session).execute()
            }
            // Moved on: another worker drains the session now; this thread belongs to the plugin that kept it.
            guard let outcome else { return }
            run.scratch.value = nil  // its turns are over: an ended run is remembered within its byte budget, without it
            lock.lock()
            finish(run, in: session, status: outcome.status, text: outcome.text, error: outcome.error)
            lock.broadcast()
        }
        session.workerActive = false
        activeSpawned.remove(session.key)
        activeChildren.remove(session.key)
        workers -= 1
        lock.broadcast()
        lock.unlock()
    }

    /// Carries a session's run on on another worker from where `resume` picks it up: its
    /// worker is stuck in a plugin's gate past the deadline and is left to the plugin.
    func takeOver(_ run: Run, of session: Session, resume: @escaping @Sendable () -> AgentLoop.Outcome?) {
        runWorkers.submit { [self] in drain(session, takingOver: resume) }
    }

    private func validate(_ spec: SessionSpec) throws(EngineError) {
        try InputLimits.check(spec.message, "message", max: InputLimits.messageBytes, required: true)
        try InputLimits.check(spec.systemPrompt, "system_prompt", max: InputLimits.systemPromptBytes)
        try InputLimits.check(spec.label, "label", max: InputLimits.labelBytes)
        for (field, patterns) in [("tools_allow", spec.toolPolicy.allow), ("tools_deny", spec.toolPolicy.deny)] {
            if patterns.count > InputLimits.patterns { throw EngineError(.invalidArgument, "\(field) has \(patterns.count) patterns; at most \(InputLimits.patterns)") }
            for (i, p) in patterns.enumerated() { try InputLimits.check(p, "\(field)[\(i)]", max: InputLimits.patternBytes, required: true) }
        }
        if let model = spec.model, catalog.resolve(model) == nil {
            throw EngineError(.unsupported, "model '\(model)' is not in the catalog (\(catalog.ids.joined(separator: ", ")))")
        }
        if let t = spec.timeoutSeconds, t < 0 || t > InputLimits.timeoutSeconds {
            throw EngineError(.invalidArgument, "timeout_seconds is \(t); it must be 0 (the default) to \(InputLimits.timeoutSeconds)")
        }
        for (namespace, value) in spec.metadata { try InputLimits.checkMetadata(value, "metadata_json.\(namespace)") }
    }

    /// Queues what changed in the session since its last write (new messages, these runs,
    /// and the session itself when new) for the store writer, which commits it with
    /// whatever else is queued. Lock held. A failed commit is logged; the engine goes on in memory.
    func persist(_ session: Session, runs: [Run] = [], isNew: Bool = false, metadata: [String: JSON] = [:]) {
        guard let writer else { return }
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

    // MARK: - Used by the agent loop

    /// Sets the session's state, keeping the state index in step. Lock held.
    func setState(_ state: SessionState, of session: Session) {
        session.state = state
        if sessions[session.key] === session { stateIndex.set(session.key, state, owner: number(of: session.owner)) }
    }

    /// Adds an event to the run's record and tells run_event hooks (which never wait). Lock held.
    func record(_ event: RunEvent, in run: Run, of session: Session, announcing extra: [(String, JSON)] = []) {
        run.events.append(event)
        guard hooks.has(.runEvent), case .object(let members) = event.detail else { return }
        announce(run, of: session, .object([("kind", .string(event.kind.rawValue))] + members + extra))
    }

    /// Tells run_event hooks about the run; never waits.
    func announce(_ run: Run, of session: Session, _ payload: JSON) {
        guard hooks.has(.runEvent) else { return }
        let event = HookEvent(point: .runEvent, sessionKey: session.key, sessionId: session.id, runId: run.id,
                              owner: session.owner, workspaceDir: config.workspaceDir, payload: payload)
        hooks.notify(.runEvent, owner: session.owner, namespaces: namespaceHolders(of: session)) { _ in event }
    }

    /// Replaces the transcript (after compaction), in memory and in the store. Lock held.
    func replaceTranscript(of session: Session, with messages: [Message]) {
        session.transcript = messages
        session.persistedCount = messages.count
        writer?.enqueue(.replaceTranscript(sessionKey: session.key, messages: messages))
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Throws the run's stop (cancellation, shutdown, timeout) if it has one. Lock held.
    func checkStop(_ run: Run) throws {
        if let request = run.stopRequest { throw RunStop(status: request.status, reason: request.reason) }
        if MonotonicClock.nanoseconds() >= run.deadlineNs {
            throw RunStop(status: .timedOut, reason: "the run passed its timeout of \((run.deadlineNs - run.startedNs) / 1_000_000_000) s")
        }
    }

    /// Sleeps up to `nanoseconds`, waking early to throw if the run must stop.
    func pause(_ run: Run, nanoseconds: UInt64) throws {
        let until = MonotonicClock.nanoseconds() &+ nanoseconds
        lock.lock()
        defer { lock.unlock() }
        while true {
            try checkStop(run)
            let now = MonotonicClock.nanoseconds()
            if now >= until { return }
            let wake = min(until, run.deadlineNs)
            _ = lock.wait(until: Date(timeIntervalSinceNow: Double(wake &- now) / 1e9))
        }
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
        case .plugin(let id): return "plugin:\(id):\(randomHex(12))"
        case .operator: return "operator:\(randomHex(12))"
        }
    }

    static func runId() -> String { "run-" + randomHex(16) }

    static func randomHex(_ digits: Int) -> String {
        var s = String(UInt64.random(in: .min ... .max), radix: 16)
        while s.count < 16 { s = "0" + s }
        return String(s.prefix(digits))
    }
}

/// Size limits on what callers hand the engine.
enum InputLimits {
    static let messageBytes = 1 << 20
    static let systemPromptBytes = 256 << 10
    static let labelBytes = 256
    static let patterns = 128
    static let patternBytes = 256
    static let metadataBytes = 64 << 10
    static let metadataNamespaces = 16
    static let queuedRuns = 16
    static let queuedMessageBytes = 16 << 20
    static let timeoutSeconds = 7 * 24 * 3600

    /// A metadata namespace's value: a JSON object of at most `metadataBytes`.
    static func checkMetadata(_ value: JSON, _ field: String) throws(EngineError) {
        guard case .object = value else { throw EngineError(.invalidArgument, "\(field) must be a JSON object, not a \(value.typeName)") }
        if value.description.utf8.count > metadataBytes { throw EngineError(.invalidArgument, "\(field) is over \(metadataBytes) bytes") }
    }

    static func check(_ value: String?, _ field: String, max: Int, required: Bool = false) throws(EngineError) {
        guard let value else {
            if required { throw EngineError(.invalidArgument, "\(field) is required") }
            return
        }
        if required, value.isEmpty { throw EngineError(.invalidArgument, "\(field) is empty") }
        if value.utf8.count > max { throw EngineError(.invalidArgument, "\(field) is \(value.utf8.count) bytes; at most \(max)") }
    }
}
