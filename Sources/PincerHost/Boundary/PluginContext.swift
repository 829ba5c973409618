// Everything the host knows about one loaded plugin while it runs: who it is,
// what it may do, its phase, its own rate limiter and config, its
// registrations, and the callbacks into it that are running. Host calls are
// attributed through this object, never through anything the plugin says.

import CPincer
import Logging
import PincerCore
import Synchronization

/// Capability ids of entry.h, as flags.
struct Capabilities: OptionSet, Sendable {
    let rawValue: UInt32
    static let spawn = Capabilities(rawValue: 1 << 0)
    static let read = Capabilities(rawValue: 1 << 1)
    static let prompt = Capabilities(rawValue: 1 << 2)
    static let steer = Capabilities(rawValue: 1 << 3)
    static let delete = Capabilities(rawValue: 1 << 4)
    static let metadata = Capabilities(rawValue: 1 << 5)
    static let rateLimit = Capabilities(rawValue: 1 << 6)
    static let hostRead = Capabilities(rawValue: 1 << 7)
    static let registerTools = Capabilities(rawValue: 1 << 8)
    static let observe = Capabilities(rawValue: 1 << 9)
    static let gate = Capabilities(rawValue: 1 << 10)
    static let gatewayServe = Capabilities(rawValue: 1 << 11)
    static let acpSpawn = Capabilities(rawValue: 1 << 12)

    static let byId: [(String, Capabilities)] = [
        ("sessions.spawn", .spawn), ("sessions.read", .read), ("sessions.prompt", .prompt), ("sessions.steer", .steer),
        ("sessions.delete", .delete), ("sessions.metadata", .metadata), ("rate_limit", .rateLimit), ("host.read", .hostRead),
        ("tools.register", .registerTools), ("hooks.observe", .observe), ("hooks.gate", .gate),
        ("gateway.serve", .gatewayServe), ("acp.spawn", .acpSpawn),
    ]

    static func id(of capability: Capabilities) -> String {
        byId.first { $0.1 == capability }?.0 ?? "unknown"
    }
}

public enum PluginLogLevel: Int32, Sendable {
    case debug = 0, info, warn, error

    public var label: String { ["debug", "info", "warn", "error"][Int(rawValue)] }

    /// The swift-log level of a plugin's line.
    public var swiftLogLevel: Logger.Level { [.debug, .info, .warning, .error][Int(rawValue)] }
}

// @unchecked: its mutable state is in `state` (a Mutex) and `phaseValue` (an Atomic); `slot` is set once at registration.
final class PluginContext: @unchecked Sendable {
    /// host.h's lifecycle. Registrations made while initializing wait for init to succeed.
    enum Phase: UInt8 {
        case initializing = 0, live, stopping, dead
    }

    let id: String
    let file: String
    let engine: Engine
    /// The host's gateway methods and routes (gateway.h), which this plugin may add to.
    let gateway: PluginGateway
    let capabilities: Capabilities
    let limiter: SlidingWindowLimiter
    let configJSON: String
    let log: @Sendable (String, PluginLogLevel, String) -> Void
    /// The plugin's number in the engine's session index, and whether it may reach
    /// sessions it did not create: the is_streaming fast path checks ownership with these.
    let callerNumber: UInt32
    let fullSessionAccess: Bool
    /// Where the plugin's last is_streaming found its session, tried first by the next.
    let streamingHint = LookupHint()
    /// What it did against the contract, when the host watches (pincer validate); nil otherwise.
    let diagnostics: PluginDiagnostics?
    /// Its slot in the host tables' index (for per-plugin last_error).
    var slot = -1
    private let phaseValue = Atomic<UInt8>(Phase.initializing.rawValue)
    /// The lane its run follows deliver on (runs.h [events-lane]), started at its first follow.
    private let eventsLane = Mutex<ObserverLane?>(nil)
    private let state = Mutex(State())
    private let releasesClosed = Atomic<Bool>(false)

    private struct State {
        var registrations: [UInt64: Registration] = [:]
        var staged: [(Registration, () throws(CallError) -> Void)] = []
        var callbacksRunning = 0
        /// Runs its tools are serving right now (run id → calls), for run_stop_requested.
        var servingRuns: [String: Int] = [:]
        /// What each registration claims (a tool's or a method's name, a route's method and path):
        /// a claim at most once per plugin, checked when registered, even while init stages it.
        var claims: [UInt64: String] = [:]
        /// Registrations of each kind, against the kind's per-plugin limit.
        var counts: [Registration.Kind: Int] = [:]
    }

    init(id: String, file: String, engine: Engine, gateway: PluginGateway, capabilities: Capabilities, configJSON: String,
         diagnostics: PluginDiagnostics? = nil, log: @escaping @Sendable (String, PluginLogLevel, String) -> Void)
    {
        self.id = id
        self.gateway = gateway
        self.diagnostics = diagnostics
        self.file = file
        self.engine = engine
        self.capabilities = capabilities
        self.configJSON = configJSON
        self.log = log
        limiter = engine.rateLimiter(forPlugin: id)
        callerNumber = engine.number(of: .plugin(id))
        fullSessionAccess = engine.hasFullSessionAccess(.plugin(id))
    }

    var phase: Phase {
        @inline(__always) get { Phase(rawValue: phaseValue.load(ordering: .acquiring)) ?? .dead }
        set { phaseValue.store(newValue.rawValue, ordering: .releasing) }
    }

    var caller: Caller { .plugin(id) }

    /// Stopping or dead: blocking calls return at once.
    var isStopping: Bool { phase == .stopping || phase == .dead }

    // MARK: - Callbacks into the plugin

    /// Counts a callback into the plugin as running; false once the plugin is stopping.
    func enterCallback(servingRun runId: String? = nil) -> Bool {
        state.withLock { state in
            guard phase == .live || phase == .initializing else { return false }
            state.callbacksRunning += 1
            if let runId { state.servingRuns[runId, default: 0] += 1 }
            return true
        }
    }

    func exitCallback(servingRun runId: String? = nil) {
        state.withLock { state in
            state.callbacksRunning -= 1
            if let runId {
                state.servingRuns[runId, default: 1] -= 1
                if state.servingRuns[runId] == 0 { state.servingRuns[runId] = nil }
            }
        }
    }

    var callbacksRunning: Int { state.withLock { $0.callbacksRunning } }

    /// The plugin's events lane (runs.h), started when first needed.
    var runEventsLane: ObserverLane {
        eventsLane.withLock { lane in
            if let lane { return lane }
            let started = ObserverLane(name: "pincer-events-\(id)")
            lane = started
            return started
        }
    }

    /// The plugin is stopping: its events lane drops what is queued and ends.
    func closeEventsLane() { eventsLane.withLock { $0 }?.close() }

    func isServing(run runId: String) -> Bool { state.withLock { $0.servingRuns[runId] != nil } }

    // MARK: - Registrations

    /// Adds a registration under the plugin's bounds (count; a tool's name once). It takes
    /// effect at once when live; while initializing it waits for init to succeed. When it
    /// cannot take effect, the call fails and nothing of it stays (its release is not called).
    func add(_ registration: Registration, claiming claim: String? = nil, commit: @escaping () throws(CallError) -> Void) throws(CallError) {
        let staged = try state.withLock { (state: inout State) throws(CallError) -> Bool in
            // Checked with the insertion, under the lock withdrawAll takes after the phase moves on.
            guard !isStopping else {
                throw CallError(ResultCode.shutDown, "plugin '\(id)' is stopping: nothing it registers now could be called")
            }
            let (limit, limitName) = registration.kind.limit
            let held = state.counts[registration.kind, default: 0]
            guard held < limit else {
                throw CallError(ResultCode.limit, "plugin '\(id)' already registered \(held) \(registration.kind)s (at most \(limitName) = \(limit))")
            }
            if let claim {
                guard !state.claims.values.contains(claim) else { throw CallError(ResultCode.invalidArgument, "\(claim) is already registered") }
                state.claims[registration.id] = claim
            }
            state.counts[registration.kind] = held + 1
            state.registrations[registration.id] = registration
            if phase == .initializing { state.staged.append((registration, commit)) }
            return phase == .initializing
        }
        guard !staged else { return }
        do { try commit() } catch {
            state.withLock { state in _ = forget(registration, in: &state) }
            throw error
        }
    }

    /// init succeeded: what it registered takes effect (each name was checked when registered).
    func commitStaged() {
        let staged = state.withLock { state in
            defer { state.staged.removeAll() }
            return state.staged
        }
        for (registration, commit) in staged {
            do { try commit() } catch {
                log(id, .error, "registration \(registration.id) could not take effect after init: \(error.message)")
                withdraw(registration.id)
            }
        }
    }

    /// Takes a registration out of the plugin's books; false when it is not there. Lock held.
    private func forget(_ registration: Registration, in state: inout State) -> Bool {
        guard state.registrations.removeValue(forKey: registration.id) != nil else { return false }
        state.staged.removeAll { $0.0 === registration }
        state.claims[registration.id] = nil
        state.counts[registration.kind, default: 1] -= 1
        return true
    }

    /// Withdraws one registration; false when it is not one of this plugin's.
    @discardableResult
    func withdraw(_ id: UInt64, keepHooksListed: Bool = false) -> Bool {
        let registration = state.withLock { state -> Registration? in
            guard let registration = state.registrations[id], forget(registration, in: &state) else { return nil }
            return registration
        }
        guard let registration else { return false }
        registration.withdraw(keepListed: keepHooksListed && registration.kind == .hook)
        return true
    }

    /// Withdraws every registration (init failed, or the plugin is stopping: then its
    /// hooks stay listed in the engine, so its gates fail closed).
    func withdrawAll(keepHooksListed: Bool = false) {
        let ids = state.withLock { Array($0.registrations.keys) }
        ids.forEach { withdraw($0, keepHooksListed: keepHooksListed) }
    }

    /// From now on no release callback runs (shutdown() is about to be called; a callback
    /// that overran the drain and returns later is never released).
    func closeReleases() { releasesClosed.store(true, ordering: .releasing) }

    var releasesOpen: Bool { !releasesClosed.load(ordering: .acquiring) && phase != .dead }
}
