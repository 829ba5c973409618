// The engine's figures, through swift-metrics (the operator's backend:
// `pincer serve` exports them; tests read them with MetricsTestKit). Metric
// objects are made once, here, so recording on a hot path is one call into
// the backend's handler. Names follow Prometheus conventions.
//
//   pincer_runs_total{status}               runs that ended, by status
//   pincer_sessions_at_work                 sessions with a run at work (guards.maxConcurrentRuns)
//   pincer_sessions                         sessions the engine holds
//   pincer_sessions_retired_total           idle sessions deleted past engine.maxSessions
//   pincer_hook_duration_seconds{point}     a gate's call, from asking to its answer (or deadline)
//   pincer_hook_events_dropped_total        observer events dropped by a full or closed lane
//   pincer_store_commit_duration_seconds    one store transaction (a group of writes)
//   pincer_rate_limit_keys{plugin}          keys a plugin's limiter tracks (set when a key is added)

import CoreMetrics

public struct EngineMetrics: Sendable {
    private let runsEnded: [RunStatus: Counter]
    let sessionsAtWork: Gauge
    let sessions: Gauge
    let sessionsRetired: Counter
    private let hookDurations: [HookPoint: Timer]
    let hookEventsDropped: Counter
    let storeCommit: Timer
    private let factory: MetricsFactory

    /// - Parameter factory: nil takes the process's backend (MetricsSystem.bootstrap).
    public init(factory: MetricsFactory? = nil) {
        let factory = factory ?? MetricsSystem.factory
        self.factory = factory
        let statuses: [RunStatus] = [.completed, .failed, .timedOut, .cancelled, .interrupted]
        runsEnded = Dictionary(uniqueKeysWithValues: statuses.map {
            ($0, Counter(label: "pincer_runs_total", dimensions: [("status", $0.rawValue)], factory: factory))
        })
        sessionsAtWork = Gauge(label: "pincer_sessions_at_work", factory: factory)
        sessions = Gauge(label: "pincer_sessions", factory: factory)
        sessionsRetired = Counter(label: "pincer_sessions_retired_total", factory: factory)
        hookDurations = Dictionary(uniqueKeysWithValues: HookPoint.allCases.filter(\.isGate).map {
            ($0, Timer(label: "pincer_hook_duration_seconds", dimensions: [("point", $0.name)], factory: factory))
        })
        hookEventsDropped = Counter(label: "pincer_hook_events_dropped_total", factory: factory)
        storeCommit = Timer(label: "pincer_store_commit_duration_seconds", factory: factory)
    }

    func runEnded(_ status: RunStatus) { runsEnded[status]?.increment() }

    func hookAnswered(_ point: HookPoint, nanoseconds: UInt64) {
        hookDurations[point]?.recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// The gauge of one plugin's limiter keys.
    public func rateLimitKeys(plugin: String) -> Gauge {
        Gauge(label: "pincer_rate_limit_keys", dimensions: [("plugin", plugin)], factory: factory)
    }
}
