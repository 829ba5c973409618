// The bounds on the work callers can start (guards.* in the operator's
// config): runs at work across all callers (each session with work holds a
// worker thread), plugins' spawns (at work at once, and per sliding minute),
// and the children the operator's sessions spawn through sessions_spawn. No
// caller, and no caller's model, can create unbounded work. A value under the
// engine's lock; each refusal names the setting.

struct SpawnGuards {
    let maxConcurrentRuns: Int
    let maxConcurrentSpawns: Int
    let maxSpawnsPerMinute: Int
    let maxConcurrentChildSessions: Int
    /// Sessions with a worker draining their queue (all callers'): at most maxConcurrentRuns.
    private(set) var sessionsAtWork = 0
    /// Plugin-spawned sessions with a queued or running run.
    private(set) var activeSpawned = Set<String>()
    /// The operator's child sessions (from sessions_spawn) with an active run.
    private(set) var activeChildren = Set<String>()
    private let spawnWindow = SlidingWindowLimiter(maxKeys: 1)

    init(_ config: EngineConfig) {
        maxConcurrentRuns = config.maxConcurrentRuns
        maxConcurrentSpawns = config.maxConcurrentSpawns
        maxSpawnsPerMinute = config.maxSpawnsPerMinute
        maxConcurrentChildSessions = config.maxConcurrentChildSessions
    }

    /// Admits a new session for `caller` (a child of another session when `isChild`), or throws why not.
    func admitSpawn(by caller: Caller, isChild: Bool) throws(EngineError) {
        try admitWork(starting: "spawn")
        if case .plugin = caller {
            if activeSpawned.count >= maxConcurrentSpawns {
                throw EngineError(.limit, "spawn refused: \(activeSpawned.count) plugin-spawned sessions are already running (guards.maxConcurrentSpawns = \(maxConcurrentSpawns))")
            }
            guard maxSpawnsPerMinute > 0 else {
                throw EngineError(.limit, "spawn refused: plugin spawns are switched off (guards.maxSpawnsPerMinute = 0)")
            }
            let decision = spawnWindow.check(key: "spawns", maxRequests: UInt32(min(maxSpawnsPerMinute, 65535)), windowMs: 60_000)
            if !decision.allowed {
                throw EngineError(.limit, "spawn refused: \(maxSpawnsPerMinute) plugin spawns in the last minute (guards.maxSpawnsPerMinute = \(maxSpawnsPerMinute)); retry in \(decision.retryAfterMs) ms")
            }
        } else if isChild, activeChildren.count >= maxConcurrentChildSessions {
            throw EngineError(.limit, "sessions_spawn refused: \(activeChildren.count) child sessions of the operator's sessions are already running (guards.maxConcurrentChildSessions = \(maxConcurrentChildSessions))")
        }
    }

    /// Admits a follow-up in `session`, or throws why not: an idle session needs a worker again,
    /// and a plugin's idle session counts against the spawn guard again.
    func admitPrompt(in session: Session) throws(EngineError) {
        guard !session.workerActive else { return }
        try admitWork(starting: "prompt")
        if case .plugin = session.owner, !activeSpawned.contains(session.key), activeSpawned.count >= maxConcurrentSpawns {
            throw EngineError(.limit, "prompt refused: \(activeSpawned.count) plugin-spawned sessions are already running (guards.maxConcurrentSpawns = \(maxConcurrentSpawns))")
        }
    }

    private func admitWork(starting what: String) throws(EngineError) {
        if sessionsAtWork >= maxConcurrentRuns {
            throw EngineError(.limit, "\(what) refused: \(sessionsAtWork) sessions already have a run at work, across all callers (guards.maxConcurrentRuns = \(maxConcurrentRuns))")
        }
    }

    /// A session's queue got a run; `needsWorker` when no worker drains it yet.
    mutating func queued(in session: Session, needsWorker: Bool) {
        if case .plugin = session.owner { activeSpawned.insert(session.key) } else if session.parentKey != nil { activeChildren.insert(session.key) }
        if needsWorker { sessionsAtWork += 1 }
    }

    /// A session's worker found its queue empty.
    mutating func drained(_ session: Session) {
        activeSpawned.remove(session.key)
        activeChildren.remove(session.key)
        sessionsAtWork -= 1
    }

    var json: JSON {
        ["maxConcurrentRuns": JSON(maxConcurrentRuns), "sessionsAtWork": JSON(sessionsAtWork),
         "maxConcurrentSpawns": JSON(maxConcurrentSpawns), "activeSpawns": JSON(activeSpawned.count),
         "maxSpawnsPerMinute": JSON(maxSpawnsPerMinute),
         "maxConcurrentChildSessions": JSON(maxConcurrentChildSessions), "activeChildSessions": JSON(activeChildren.count)]
    }
}
