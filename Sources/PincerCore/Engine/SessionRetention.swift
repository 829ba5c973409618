// How many sessions the engine holds is bounded (engine.maxSessions): past the
// bound the least recently active idle sessions are deleted, in memory and in
// the store, as sessions_delete would delete them. A session with a run queued
// or at work is never deleted, so the count can pass the bound by at most the
// sessions at work (guards.maxConcurrentRuns). Without it every session ever
// spawned stayed, with its transcript, in memory and on disk.
//
// It deletes a batch at a time, down to 15/16 of the bound, so choosing (a sort
// of the idle sessions) is paid once per bound/16 new sessions, not on every spawn.

struct SessionRetention {
    let maxSessions: Int

    /// The sessions to delete now: none within the bound; past it, the least recently active
    /// idle ones, enough to bring the count down to 15/16 of the bound.
    func sessionsToRetire(_ sessions: some Collection<Session>) -> [Session] {
        guard sessions.count > maxSessions else { return [] }
        let excess = sessions.count - (maxSessions - maxSessions / 16)
        let idle = sessions.filter { $0.queue.isEmpty && !$0.workerActive }
        return Array(idle.sorted { $0.lastActivity < $1.lastActivity }.prefix(excess))
    }
}
