// How many sessions the engine holds is bounded (engine.maxSessions): past the
// bound the least recently active idle session is deleted, in memory and in
// the store, as sessions_delete would delete it. A session with a run queued or
// at work is never deleted, so the count can pass the bound by at most the
// sessions at work (guards.maxConcurrentRuns). Without it every session ever
// spawned stayed, with its transcript, in memory and on disk.
//
// Sessions are kept in order of activity (a run queued or ended, the session
// added) in a list threaded through a slab of slots: indices, not references,
// so there are no retain cycles and no unowned pointers, and marking a session
// active, forgetting it and finding the least recent are each O(1). (A sort of
// the idle sessions at each overflow held the engine's lock 82 ms at 100,000
// sessions and 0.9 s at a million, measured.)

struct SessionRetention {
    let maxSessions: Int
    private struct Slot {
        var session: Session?
        var older = -1
        var newer = -1
    }
    private var slots: [Slot] = []
    private var freeSlots: [Int] = []
    private var oldest = -1
    private var newest = -1

    init(maxSessions: Int) { self.maxSessions = maxSessions }

    /// The least recently active session, if any.
    var leastRecent: Session? { oldest < 0 ? nil : slots[oldest].session }

    /// Makes `session` the most recently active (adding it when it is new).
    mutating func touch(_ session: Session) {
        let slot: Int
        if session.activitySlot >= 0 {
            slot = session.activitySlot
            guard slot != newest else { return }
            unlink(slot)
        } else if let reused = freeSlots.popLast() {
            slot = reused
            slots[slot].session = session
        } else {
            slot = slots.count
            slots.append(Slot(session: session))
        }
        session.activitySlot = slot
        slots[slot].older = newest
        slots[slot].newer = -1
        if newest >= 0 { slots[newest].newer = slot } else { oldest = slot }
        newest = slot
    }

    /// Forgets a session that is gone.
    mutating func forget(_ session: Session) {
        let slot = session.activitySlot
        guard slot >= 0 else { return }
        unlink(slot)
        slots[slot] = Slot()
        freeSlots.append(slot)
        session.activitySlot = -1
    }

    private mutating func unlink(_ slot: Int) {
        let (older, newer) = (slots[slot].older, slots[slot].newer)
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
        if newer >= 0 { slots[newer].older = older } else { newest = older }
    }
}
