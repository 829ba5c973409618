// One rate-limit key's requests as counts per sub-window: the limiter's state
// for a key allowed more than SlidingWindowLimiter.exactRequests (64) requests
// in a window, from its 65th on, so its memory stays fixed (290 bytes) whatever
// max_requests is. A view over the key's payload in the limiter's table.
//
// The window is cut into 128 sub-windows of width w = ceil(window / 128) on an
// absolute grid (sub-window j is [j·w, (j+1)·w)); a window ending now overlaps
// at most 129 of them, one count each. A sub-window counts while any instant
// of it is inside the window, so the total is never below the exact count:
// the limiter never allows more than max_requests in any window, and refuses
// early by less than one sub-window — a refusal at t means max_requests were
// allowed in (t − window − w, t]. `remaining` and the retry time follow the
// counts: remaining may leave out requests of the oldest sub-window that have
// already left the window, and the retry comes less than one sub-window late.
// A key whose window changes has its counts moved onto the new grid (regrid),
// which may add one old sub-window to that lateness, never allow more.
//
// Payload: [marker: UInt16 = 0xFFFF][unused: UInt16][total: UInt32]
// [window ns: UInt64][oldest counted sub-window: UInt64][newest request ns: UInt64]
// [counts: UInt16 × 129, sub-window j at j mod 129]. Only the 129 sub-windows
// from the oldest counted one may have a count. A count fits UInt16: the total
// stays at most 65535 (a request is counted only while the total is below
// max_requests ≤ 65535, and moving counts to a new grid never adds any).

struct SubWindowCounts {
    /// The payload's first UInt16: a timestamp ring's capacity never reaches it.
    static let marker = UInt16.max
    static let subWindows: UInt64 = 128
    /// Sub-windows a window overlaps at most, each with a count.
    private static let slots: UInt64 = subWindows + 1
    private static let header = 32
    static let payloadBytes = header + 2 * Int(slots)

    let payload: UnsafeMutableRawPointer

    private var total: UInt32 {
        get { payload.load(fromByteOffset: 4, as: UInt32.self) }
        nonmutating set { payload.storeBytes(of: newValue, toByteOffset: 4, as: UInt32.self) }
    }
    private var windowNs: UInt64 {
        get { payload.load(fromByteOffset: 8, as: UInt64.self) }
        nonmutating set { payload.storeBytes(of: newValue, toByteOffset: 8, as: UInt64.self) }
    }
    private var oldest: UInt64 {
        get { payload.load(fromByteOffset: 16, as: UInt64.self) }
        nonmutating set { payload.storeBytes(of: newValue, toByteOffset: 16, as: UInt64.self) }
    }
    /// When the newest counted request was made: the key is idle once it has left the window.
    var newest: UInt64 {
        get { payload.load(fromByteOffset: 24, as: UInt64.self) }
        nonmutating set { payload.storeBytes(of: newValue, toByteOffset: 24, as: UInt64.self) }
    }
    private var counts: UnsafeMutablePointer<UInt16> { (payload + SubWindowCounts.header).assumingMemoryBound(to: UInt16.self) }
    /// Sub-window j's count.
    private func count(_ j: UInt64) -> UnsafeMutablePointer<UInt16> { counts + Int(j % SubWindowCounts.slots) }
    private var width: UInt64 { (windowNs + SubWindowCounts.subWindows - 1) / SubWindowCounts.subWindows }

    /// Lays out empty counts for `windowNs` at `payload` (payloadBytes long).
    static func start(at payload: UnsafeMutableRawPointer, windowNs: UInt64, now: UInt64) -> SubWindowCounts {
        payload.storeBytes(of: marker, as: UInt16.self)
        let counts = SubWindowCounts(payload: payload)
        counts.newest = 0
        counts.clear(windowNs: windowNs, now: now)
        return counts
    }

    /// Checks one request at `now` (never before an earlier check's time); counts it when allowed.
    func check(limit: UInt32, windowNs: UInt64, now: UInt64) -> RateLimitDecision {
        if windowNs != self.windowNs { regrid(windowNs: windowNs, now: now) }
        expire(now: now)
        if total >= limit {
            let waitNs = retryAfterNs(limit: limit, now: now)
            return RateLimitDecision(allowed: false, remaining: 0, retryAfterMs: (waitNs + 999_999) / 1_000_000)
        }
        add(1, madeAt: now)
        newest = now
        return RateLimitDecision(allowed: true, remaining: limit - total, retryAfterMs: 0)
    }

    /// Counts `n` requests made at `stamp`, unless its sub-window no longer counts.
    func add(_ n: UInt16, madeAt stamp: UInt64) {
        let j = stamp / width
        guard j >= oldest else { return }
        count(j).pointee += n
        total += UInt32(n)
    }

    /// The first sub-window with an instant inside the window ending at `now`:
    /// j counts while (j+1)·w − 1 > now − window.
    private func firstCounted(now: UInt64) -> UInt64 {
        now + 1 > windowNs ? (now + 1 - windowNs) / width : 0
    }

    /// Drops the sub-windows that have wholly left the window.
    private func expire(now: UInt64) {
        let first = firstCounted(now: now)
        guard first > oldest else { return }
        if first - oldest >= SubWindowCounts.slots {
            counts.update(repeating: 0, count: Int(SubWindowCounts.slots))
            total = 0
        } else {
            for j in oldest..<first {
                total -= UInt32(count(j).pointee)
                count(j).pointee = 0
            }
        }
        oldest = first
    }

    /// Nanoseconds until enough of the oldest sub-windows leave for the total to drop below `limit`.
    private func retryAfterNs(limit: UInt32, now: UInt64) -> UInt64 {
        var excess = total - limit + 1
        var j = oldest
        while UInt32(count(j).pointee) < excess {
            excess -= UInt32(count(j).pointee)
            j += 1
        }
        // Sub-window j stops counting at the first instant t with (j+1)·w − 1 ≤ t − window.
        return (j + 1) * width - 1 + windowNs - now
    }

    private func clear(windowNs: UInt64, now: UInt64) {
        self.windowNs = windowNs
        total = 0
        oldest = firstCounted(now: now)
        counts.update(repeating: 0, count: Int(SubWindowCounts.slots))
    }

    /// Moves the counts onto the grid of a new window, each sub-window's count
    /// at the latest instant its requests may have been made, so none is
    /// counted for less time than it should be.
    private func regrid(windowNs: UInt64, now: UInt64) {
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: Int(SubWindowCounts.slots)) { old in
            _ = old.initialize(fromContentsOf: UnsafeBufferPointer(start: counts, count: Int(SubWindowCounts.slots)))
            let (oldWidth, oldOldest) = (width, oldest)
            clear(windowNs: windowNs, now: now)
            for j in oldOldest..<oldOldest + SubWindowCounts.slots {
                let n = old[Int(j % SubWindowCounts.slots)]
                if n > 0 { add(n, madeAt: min((j + 1) * oldWidth - 1, newest)) }
            }
        }
    }
}
