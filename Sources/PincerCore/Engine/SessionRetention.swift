// How many sessions the engine holds is bounded (engine.maxSessions): past the
// bound an idle session is deleted, in memory and in the store, as
// sessions_delete would delete it. The caller holding the most sessions (a
// plugin, or the operator) gives way, its least recently active idle session
// first. So a plugin that spawns without end pushes out its own sessions, not
// another caller's smaller share. (With one global order it could, spawn by
// spawn within its guards, delete every other caller's idle sessions and
// their transcripts.) A session with a run queued or at work is never
// deleted; when every session of the largest holder is at work, the next
// largest gives way, so the count passes the bound by at most the sessions at
// work (guards.maxConcurrentRuns). A smaller caller thus loses a session only
// while every larger one is entirely at work: each of n callers keeps at
// least (maxSessions - guards.maxConcurrentRuns) / n of its sessions, or all
// it has.
//
// Each caller's sessions are kept in order of activity (a run queued or
// ended, the session added) in a list threaded through one slab of slots:
// indices, not references, so there are no retain cycles and no unowned
// pointers, and marking a session active, forgetting it and finding a
// caller's least recent are each O(1). Finding the largest holder scans the
// callers holding sessions: the operator and the plugins that spawned them
// (loaded now or, for sessions restored from the store, before); a plugin
// cannot add callers. (A sort of the idle
// sessions at each overflow held the engine's lock 82 ms at 100,000 sessions
// and 0.9 s at a million, measured.)

struct SessionRetention {
    let maxSessions: Int
    private struct Slot {
        var session: Session?
        var older = -1
        var newer = -1
        /// The touch that made it active last: orders two callers' least recent sessions.
        var touch: UInt64 = 0
    }
    /// One caller's list, least recent first.
    private struct Order {
        var oldest = -1
        var newest = -1
        var count = 0
    }
    private var slots: [Slot] = []
    private var freeSlots: [Int] = []
    /// Callers holding at least one session.
    private var orders: [Caller: Order] = [:]
    private var touches: UInt64 = 0

    init(maxSessions: Int) { self.maxSessions = maxSessions }

    /// The session to delete past the bound: the least recently active one `isIdle` accepts,
    /// of the caller holding the most sessions (of two holding as many, the one whose least
    /// recent is older); when that caller has none idle, of the next; nil when none is idle.
    func nextToRetire(isIdle: (Session) -> Bool) -> Session? {
        let givesWayFirst: (Order, Order) -> Bool = { a, b in
            a.count != b.count ? a.count > b.count : slots[a.oldest].touch < slots[b.oldest].touch
        }
        // The largest holder almost always has an idle session: the others are sorted only when not.
        guard let largest = orders.values.min(by: givesWayFirst) else { return nil }
        if let session = leastRecent(of: largest, isIdle) { return session }
        for order in orders.values.sorted(by: givesWayFirst).dropFirst() {
            if let session = leastRecent(of: order, isIdle) { return session }
        }
        return nil
    }

    /// The least recently active session in `order` that `isIdle` accepts (the walk passes only
    /// sessions at work, which the guards bound).
    private func leastRecent(of order: Order, _ isIdle: (Session) -> Bool) -> Session? {
        var slot = order.oldest
        while slot >= 0 {
            if let session = slots[slot].session, isIdle(session) { return session }
            slot = slots[slot].newer
        }
        return nil
    }

    /// Makes `session` its caller's most recently active (adding it when it is new).
    mutating func touch(_ session: Session) {
        var slot = session.activitySlot
        if slot >= 0 {
            unlink(slot, of: session.owner)
        } else {
            if let reused = freeSlots.popLast() { slot = reused } else {
                slot = slots.count
                slots.append(Slot())
            }
            slots[slot].session = session
            session.activitySlot = slot
        }
        touches += 1
        slots[slot].touch = touches
        var order = orders[session.owner] ?? Order()
        slots[slot].older = order.newest
        slots[slot].newer = -1
        if order.newest >= 0 { slots[order.newest].newer = slot } else { order.oldest = slot }
        order.newest = slot
        order.count += 1
        orders[session.owner] = order
    }

    /// Forgets a session that is gone.
    mutating func forget(_ session: Session) {
        let slot = session.activitySlot
        guard slot >= 0 else { return }
        unlink(slot, of: session.owner)
        slots[slot] = Slot()
        freeSlots.append(slot)
        session.activitySlot = -1
    }

    private mutating func unlink(_ slot: Int, of owner: Caller) {
        guard var order = orders[owner] else { return assertionFailure("a slot in no caller's list") }
        let (older, newer) = (slots[slot].older, slots[slot].newer)
        if older >= 0 { slots[older].newer = newer } else { order.oldest = newer }
        if newer >= 0 { slots[newer].older = older } else { order.newest = older }
        order.count -= 1
        orders[owner] = order.count > 0 ? order : nil
    }
}
