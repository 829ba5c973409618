// Every registered hook, by point, in the order they run (descending
// priority, then registration order), and the two ways the engine calls
// them: `gate` (each answer on the plugin's gate lane — inline on a run's
// worker, else handed off and waited for; the first block wins; patches apply
// in order; a failure, a missed deadline, a full or overdue lane or a stopped
// plugin blocks) and `notify` (queue the event on the plugin's observer lane
// and go on). The engine calls both without its lock. A stopped plugin's
// hooks stay listed, so its gates keep failing closed.

import Synchronization

public final class HookRegistry: Sendable {
    private struct Lanes {
        let gates: GateLane
        let observers: ObserverLane
        func close() { gates.close(); observers.close() }
    }

    private struct State {
        var hooks: [HookPoint: [(sequence: UInt64, hook: Hook)]] = [:]
        var lanes: [String: Lanes] = [:]
        var sequence: UInt64 = 0
    }

    private let state = Mutex(State())
    /// One bit per point that has a hook: the engine's cheap "anyone listening?" check.
    private let activePoints = Atomic<UInt32>(0)
    /// The deadline of a hook that asked for none (operator config hooks.defaultDeadlineMs).
    public let defaultDeadlineMs: UInt32
    private let log: @Sendable (String) -> Void
    private let metrics: EngineMetrics
    /// Where gate calls from threads that cannot run them inline are handed off.
    private let handOff = ParkedThreads(name: "pincer-gate")
    private let watchdog = GateWatchdog()

    public init(defaultDeadlineMs: UInt32 = 1000, metrics: EngineMetrics = EngineMetrics(), log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.defaultDeadlineMs = defaultDeadlineMs
        self.metrics = metrics
        self.log = log
    }

    /// Adds a hook; returns its id (for unregister).
    @discardableResult
    public func register(_ hook: Hook) -> UInt64 {
        state.withLock { state in
            state.sequence += 1
            state.hooks[hook.point, default: []].append((state.sequence, hook))
            state.hooks[hook.point]!.sort { ($0.hook.priority, $1.sequence) > ($1.hook.priority, $0.sequence) }
            if state.lanes[hook.plugin] == nil {
                state.lanes[hook.plugin] = Lanes(gates: GateLane(handOff: handOff, watchdog: watchdog),
                                                 observers: ObserverLane(name: "pincer-observers \(hook.plugin)"))
            }
            activePoints.bitwiseOr(1 << UInt32(hook.point.rawValue), ordering: .releasing)
            return state.sequence
        }
    }

    /// Withdraws one hook: no new call of it starts.
    public func unregister(id: UInt64) { withdraw { $0.sequence == id } }

    /// The plugin is stopping: its lanes close (queued events dropped, waiting gates
    /// blocked) and from now on each of its gates blocks; its hooks stay listed.
    public func stop(plugin: String) {
        state.withLock { $0.lanes[plugin] }?.close()
    }

    /// Withdraws every hook and closes every lane (the engine is shutting down).
    func removeAll() {
        withdraw { _ in true }
        let lanes = state.withLock { state in
            defer { state.lanes.removeAll() }
            return Array(state.lanes.values)
        }
        lanes.forEach { $0.close() }
    }

    private func withdraw(_ leaving: ((sequence: UInt64, hook: Hook)) -> Bool) {
        state.withLock { state in
            var bits: UInt32 = 0
            for (point, list) in state.hooks {
                state.hooks[point] = list.filter { !leaving($0) }
                if !state.hooks[point]!.isEmpty { bits |= 1 << UInt32(point.rawValue) }
            }
            activePoints.store(bits, ordering: .releasing)
        }
    }

    /// A plugin's hooks, in registration order.
    public func hooks(of plugin: String) -> [Hook] {
        state.withLock { state in
            state.hooks.values.joined().filter { $0.hook.plugin == plugin }.sorted { $0.sequence < $1.sequence }.map(\.hook)
        }
    }

    public func has(_ point: HookPoint) -> Bool {
        activePoints.load(ordering: .acquiring) & (1 << UInt32(point.rawValue)) != 0
    }

    /// The hooks for `point` that may see a session of `owner` (or holding one of its metadata
    /// `namespaces`), in running order, with their lanes.
    private func hooks(_ point: HookPoint, for owner: Caller, namespaces: Set<String>) -> [(Hook, Lanes)] {
        state.withLock { state in
            (state.hooks[point] ?? []).compactMap { entry in
                guard entry.hook.sees(owner) || namespaces.contains(entry.hook.plugin), let lanes = state.lanes[entry.hook.plugin] else { return nil }
                return (entry.hook, lanes)
            }
        }
    }

    /// What a gate decided.
    public struct GateOutcome: Sendable {
        /// The plugin that blocked and its reason (the reason already names the plugin);
        /// `isLimit` when a bound rather than a verdict blocked (nesting too deep).
        public var block: (plugin: String, reason: String, isLimit: Bool)?
        /// Plugins whose patches were applied, in order.
        public var patchedBy: [String] = []
        /// An inline gate answered past its deadline: `moveOn` already carried the caller's
        /// work on elsewhere, and this thread must touch none of it.
        public var movedOn = false
    }

    /// Asks each gate hook in order. `event` builds the event as it stands (after earlier
    /// patches); `apply` applies one hook's patch, throwing when it cannot.
    ///
    /// `moveOn`: given by a caller that may be left in a plugin (a run's worker), whose gates
    /// then run inline on its thread. Should one pass its deadline, `moveOn` is called (on
    /// another thread) with the blocking plugin and reason, to carry the caller's work on as
    /// if the gate had blocked; the stuck call then comes back `movedOn`. Without it, each
    /// call is handed to a parked thread and waited for.
    public func gate(_ point: HookPoint, owner: Caller, namespaces: Set<String> = [], event: (_ plugin: String) -> HookEvent,
                     moveOn: (@Sendable (_ plugin: String, _ reason: String) -> Void)? = nil,
                     apply: (_ plugin: String, _ patch: JSON) throws -> Void) -> GateOutcome
    {
        var outcome = GateOutcome()
        for (hook, lanes) in hooks(point, for: owner, namespaces: namespaces) {
            // The reasons are worded only when a gate blocks: an allowed call builds no strings.
            let what = { HookRegistry.describe(hook.plugin, point) }
            let current = event(hook.plugin)
            let deadline = hook.deadlineMs == 0 ? defaultDeadlineMs : hook.deadlineMs
            let handler = hook.handler
            // The gate serves its own session and whatever the asking thread serves (CallbackFrames).
            let served = CallbackFrames.current + [current.sessionKey]
            let ask: @Sendable () -> Result<HookReply, any Error> = { CallbackFrames.serving(served) { Result { try handler(current) } } }
            let answer: GateLane.Outcome<Result<HookReply, any Error>>
            let askedNs = MonotonicClock.nanoseconds()
            defer { metrics.hookAnswered(point, nanoseconds: MonotonicClock.nanoseconds() - askedNs) }
            if let moveOn {
                answer = lanes.gates.callInline(deadlineMs: deadline, whenOverdue: { [log, plugin = hook.plugin] in
                    let reason = HookRegistry.lateReason(plugin, point, deadline)
                    log(reason)
                    moveOn(plugin, reason)
                }, ask)
            } else {
                answer = lanes.gates.call(deadlineMs: deadline, ask)
            }
            let reason: String
            var isLimit = false
            switch answer {
            case .movedOn:
                outcome.movedOn = true
                return outcome
            case .late:
                reason = HookRegistry.lateReason(hook.plugin, point, deadline)
            case .overdue(let ms):
                reason = "blocked: \(what()) cannot answer: one of its gate calls has been running \(ms) ms past its deadline, and until it returns the plugin's gates block at once"
            case .closed:
                reason = "blocked: \(what()) cannot answer: the plugin is stopping or has shut down"
            case .full:
                reason = "blocked: \(what()) cannot answer: its gate lane already holds \(HookLimits.maxPendingGates) calls waiting to start (PINCER_HOOK_MAX_PENDING_GATES)"
            case .tooDeep:
                isLimit = true
                reason = "blocked: \(what()) would run nested more than \(HookLimits.maxNesting) deep (PINCER_HOOK_MAX_NESTING)"
            case .answered(.failure(let error)):
                reason = "blocked: \(what()) failed: \(error)"
            case .answered(.success(.block(let why))):
                reason = "blocked by \(what()): \(why)"
            case .answered(.success(.proceed(let patch))):
                guard let patch else { continue }
                do {
                    try apply(hook.plugin, patch)
                    outcome.patchedBy.append(hook.plugin)
                    continue
                } catch {
                    reason = "blocked: \(what()) returned a patch the host cannot apply: \(error)"
                }
            }
            outcome.block = (hook.plugin, reason, isLimit)
            log(reason)
            return outcome
        }
        return outcome
    }

    /// "plugin 'x' (before_tool_call hook)", as every reason a gate blocks with names it.
    private static func describe(_ plugin: String, _ point: HookPoint) -> String { "plugin '\(plugin)' (\(point.name) hook)" }

    /// Why a gate that did not answer within its deadline blocked.
    private static func lateReason(_ plugin: String, _ point: HookPoint, _ deadlineMs: UInt32) -> String {
        "blocked: \(describe(plugin, point)) did not answer within its deadline of \(deadlineMs) ms"
    }

    /// Queues the event (as `event` builds it for each plugin) for every observer
    /// hook that may see a session of `owner` (or holding one of its metadata `namespaces`); never waits.
    public func notify(_ point: HookPoint, owner: Caller, namespaces: Set<String> = [], event build: (_ plugin: String) -> HookEvent) {
        for (hook, lanes) in hooks(point, for: owner, namespaces: namespaces) {
            let handler = hook.handler, event = build(hook.plugin)
            let bytes = event.payload.description.utf8.count
            let dropped = lanes.observers.post(bytes: bytes) { [log] in
                do { _ = try handler(event) } catch { log("plugin '\(hook.plugin)' (\(event.point.name) hook) failed: \(error)") }
            }
            if dropped > 0 { metrics.hookEventsDropped.increment() }
            if dropped.isPowerOfTwo {
                log("plugin '\(hook.plugin)': \(dropped) hook events dropped so far: its observer lane is full (at most \(HookLimits.maxQueuedEvents) events and \(HookLimits.maxQueuedBytes) bytes) or closed")
            }
        }
    }
}

private extension Int {
    var isPowerOfTwo: Bool { self > 0 && self & (self - 1) == 0 }
}
