// A keyed sliding-window rate limiter: a key is allowed at most `maxRequests`
// requests in any `window` ending now. Only an allowed check counts.
//
// Exact while a key holds at most `exactRequests` (64) requests in its window:
// it keeps the timestamp of each, in a ring that grows by doubling up to 64
// (at most 16 bytes per counted request, 520 bytes in all). A key allowed more
// switches for good, on its 65th request in a window, to counts per 1/128 of
// the window (SubWindowCounts, 290 bytes): never more than `maxRequests` in any
// window, but a request may be refused up to window/128 before the exact limit
// would allow it. So a key's state is at most 520 bytes whatever `maxRequests`
// is; with its entry header and key (≤ 256 bytes) under 1 KiB.
//
// Memory stays bounded: before the table grows, keys whose window has emptied
// are swept out; at `maxKeys` the least recently used of a sample of keys is
// evicted, idle keys first. Thread-safe; one lock per limiter, so plugins that
// each own a limiter never contend.

import CoreMetrics
import Synchronization

public struct RateLimitDecision: Equatable, Sendable {
    public var allowed: Bool
    public var remaining: UInt32
    public var retryAfterMs: UInt64

    public init(allowed: Bool, remaining: UInt32, retryAfterMs: UInt64) {
        self.allowed = allowed
        self.remaining = remaining
        self.retryAfterMs = retryAfterMs
    }
}

public final class SlidingWindowLimiter: Sendable {
    public static let maxRequestsLimit: UInt32 = 65535
    public static let maxWindowMs: UInt64 = 30 * 24 * 3600 * 1000
    /// Requests in a window a key counts exactly, by timestamp; past them, by sub-window.
    static let exactRequests = 64

    private let table: Mutex<KeyWindows>

    /// - Parameters:
    ///   - maxKeys: keys tracked at once; past it the least recently used is evicted.
    ///   - keysGauge: told how many keys are tracked whenever a key is added.
    public init(maxKeys: Int = 100_000, keysGauge: Gauge? = nil) {
        table = Mutex(KeyWindows(maxKeys: max(1, maxKeys), keysGauge: keysGauge))
    }

    /// Checks one request for `key`; counts it when allowed. `now` is in
    /// MonotonicClock nanoseconds. Arguments must be in range (the caller
    /// validates: 1...maxRequestsLimit, 1...maxWindowMs).
    @inline(__always)
    public func check(key: UnsafeRawBufferPointer, maxRequests: UInt32, windowMs: UInt64,
                      now: UInt64 = MonotonicClock.nanoseconds()) -> RateLimitDecision
    {
        table.withLock { $0.check(key: key, maxRequests: maxRequests, windowMs: windowMs, now: now) }
    }

    public func check(key: String, maxRequests: UInt32, windowMs: UInt64,
                      now: UInt64 = MonotonicClock.nanoseconds()) -> RateLimitDecision
    {
        var key = key
        return key.withUTF8 { check(key: UnsafeRawBufferPointer($0), maxRequests: maxRequests, windowMs: windowMs, now: now) }
    }

    /// Forgets every request counted for `key`.
    public func reset(key: UnsafeRawBufferPointer) {
        table.withLock { $0.reset(key: key) }
    }

    public func reset(key: String) {
        var key = key
        key.withUTF8 { reset(key: UnsafeRawBufferPointer($0)) }
    }

    /// Keys currently tracked.
    public var trackedKeys: Int { table.withLock { $0.table.count } }

    /// Bytes held by the limiter's table and entries (requested sizes, before
    /// malloc's own overhead).
    public var footprintBytes: Int { table.withLock { $0.table.footprintBytes } }
}

/// The limiter's state: one table entry per key. The entry's owner word holds
/// the window in milliseconds; its payload is a timestamp ring,
/// [capacity: UInt16][count: UInt16][head: UInt16][unused: UInt16][timestamps: UInt64 × capacity],
/// or, once a key has held more than `exactRequests`, SubWindowCounts (whose
/// first UInt16 no capacity reaches).
struct KeyWindows: ~Copyable, Sendable {
    var table = ByteKeyedTable()
    let maxKeys: Int
    private var evictionCursor = 0
    /// The latest `now` seen: callers read the clock before taking the lock, so a
    /// check may arrive with a time older than a stored timestamp; time never
    /// goes backwards here, or such a check would see every window as expired.
    private var latest: UInt64 = 0
    private static let header = 8
    private static let evictionSample = 16

    let keysGauge: Gauge?

    init(maxKeys: Int, keysGauge: Gauge?) {
        self.maxKeys = maxKeys
        self.keysGauge = keysGauge
    }

    private static func payloadBytes(capacity: Int) -> Int { header + 8 * capacity }

    mutating func check(key: UnsafeRawBufferPointer, maxRequests: UInt32, windowMs: UInt64, now: UInt64) -> RateLimitDecision {
        if now > latest { latest = now }
        let now = latest
        let hash = table.hash(key)
        let windowNs = windowMs &* 1_000_000
        var slot: Int
        if let found = table.find(key, hash: hash) {
            slot = found
        } else {
            makeRoomForNewKey(now: now)
            slot = table.insert(key, hash: hash, payloadBytes: KeyWindows.payloadBytes(capacity: 1))
            let p = table.payload(at: slot)
            p.storeBytes(of: UInt64(1), as: UInt64.self) // capacity 1, count 0, head 0
            keysGauge?.record(table.count)
        }
        table.setOwnerWord(UInt32(truncatingIfNeeded: windowMs), at: slot)
        var p = table.payload(at: slot)
        let first = p.load(as: UInt16.self)
        if first == SubWindowCounts.marker {
            return SubWindowCounts(payload: p).check(limit: maxRequests, windowNs: windowNs, now: now)
        }
        var capacity = Int(first)
        var count = Int(p.load(fromByteOffset: 2, as: UInt16.self))
        var head = Int(p.load(fromByteOffset: 4, as: UInt16.self))
        var stamps = (p + KeyWindows.header).assumingMemoryBound(to: UInt64.self)

        // Drop timestamps that have left the window (now - t >= window).
        while count > 0, now &- stamps[head] >= windowNs {
            head = head + 1 == capacity ? 0 : head + 1
            count -= 1
        }
        let limit = Int(maxRequests)
        if count >= limit {
            store(p, count: count, head: head)
            let oldest = stamps[head]
            let waitNs = oldest &+ windowNs &- now
            return RateLimitDecision(allowed: false, remaining: 0, retryAfterMs: (waitNs + 999_999) / 1_000_000)
        }
        if count == SlidingWindowLimiter.exactRequests {
            let counts = countBySubWindow(slot: slot, head: head, now: now, windowNs: windowNs)
            return counts.check(limit: maxRequests, windowNs: windowNs, now: now)
        }
        if count == capacity {
            // Grow the ring (doubling, up to exactRequests) and unwrap it so it starts at 0.
            let newCapacity = min(capacity * 2, SlidingWindowLimiter.exactRequests)
            p = table.resizePayload(at: slot, from: KeyWindows.payloadBytes(capacity: capacity),
                                    to: KeyWindows.payloadBytes(capacity: newCapacity))
            stamps = (p + KeyWindows.header).assumingMemoryBound(to: UInt64.self)
            if head != 0 {
                // Entries [head, capacity) then [0, head): rotate into order.
                let wrapped = UnsafeMutablePointer<UInt64>.allocate(capacity: head)
                wrapped.update(from: stamps, count: head)
                (stamps).update(from: stamps + head, count: capacity - head)
                (stamps + (capacity - head)).update(from: wrapped, count: head)
                wrapped.deallocate()
                head = 0
            }
            capacity = newCapacity
            p.storeBytes(of: UInt16(capacity), as: UInt16.self)
        }
        var tail = head + count
        if tail >= capacity { tail -= capacity }
        stamps[tail] = now
        count += 1
        store(p, count: count, head: head)
        return RateLimitDecision(allowed: true, remaining: UInt32(limit - count), retryAfterMs: 0)
    }

    /// Replaces a full ring (exactRequests timestamps, from `head`) with sub-window counts of the same requests.
    private mutating func countBySubWindow(slot: Int, head: Int, now: UInt64, windowNs: UInt64) -> SubWindowCounts {
        let capacity = SlidingWindowLimiter.exactRequests
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: capacity) { stamps in
            let ring = (table.payload(at: slot) + KeyWindows.header).assumingMemoryBound(to: UInt64.self)
            for i in 0..<capacity { stamps.initializeElement(at: i, to: ring[(head + i) % capacity]) }
            let p = table.resizePayload(at: slot, from: KeyWindows.payloadBytes(capacity: capacity), to: SubWindowCounts.payloadBytes)
            let counts = SubWindowCounts.start(at: p, windowNs: windowNs, now: now)
            for stamp in stamps { counts.add(1, madeAt: stamp) }
            counts.newest = stamps[capacity - 1]
            return counts
        }
    }

    @inline(__always) private func store(_ p: UnsafeMutableRawPointer, count: Int, head: Int) {
        p.storeBytes(of: UInt16(count), toByteOffset: 2, as: UInt16.self)
        p.storeBytes(of: UInt16(head), toByteOffset: 4, as: UInt16.self)
    }

    mutating func reset(key: UnsafeRawBufferPointer) {
        if let slot = table.find(key, hash: table.hash(key)) { remove(at: slot) }
    }

    private func payloadBytes(at slot: Int) -> Int {
        let capacity = table.payload(at: slot).load(as: UInt16.self)
        return capacity == SubWindowCounts.marker ? SubWindowCounts.payloadBytes : KeyWindows.payloadBytes(capacity: Int(capacity))
    }

    private mutating func remove(at slot: Int) {
        table.remove(at: slot, payloadBytes: payloadBytes(at: slot))
    }

    /// The newest counted timestamp of the entry, and whether its window has emptied.
    private func newest(at slot: Int, now: UInt64) -> (stamp: UInt64, idle: Bool) {
        let p = table.payload(at: slot)
        let capacity = Int(p.load(as: UInt16.self))
        let stamp: UInt64
        if capacity == Int(SubWindowCounts.marker) {
            stamp = SubWindowCounts(payload: p).newest
        } else {
            let count = Int(p.load(fromByteOffset: 2, as: UInt16.self))
            guard count > 0 else { return (0, true) }
            let head = Int(p.load(fromByteOffset: 4, as: UInt16.self))
            stamp = p.load(fromByteOffset: KeyWindows.header + 8 * ((head + count - 1) % capacity), as: UInt64.self)
        }
        let windowNs = UInt64(table.ownerWord(at: slot)) &* 1_000_000
        return (stamp, now &- stamp >= windowNs)
    }

    private mutating func makeRoomForNewKey(now: UInt64) {
        if table.count >= maxKeys {
            evictLeastRecentlyUsed(now: now)
        } else if table.atLoadLimit {
            sweepIdle(now: now)
        }
    }

    /// Removes every key whose window has emptied.
    private mutating func sweepIdle(now: UInt64) {
        var i = 0
        while i < table.capacity {
            if table.isOccupied(i), newest(at: i, now: now).idle {
                remove(at: i)
                continue // an entry may have moved back into slot i
            }
            i += 1
        }
    }

    /// Evicts one key: the first idle one in a sample, else the sample's least recently used.
    private mutating func evictLeastRecentlyUsed(now: UInt64) {
        var victim = -1
        var oldest = UInt64.max
        var seen = 0
        var i = evictionCursor & (table.capacity - 1)
        while seen < KeyWindows.evictionSample {
            if table.isOccupied(i) {
                let (stamp, idle) = newest(at: i, now: now)
                if idle { victim = i; break }
                if stamp < oldest { oldest = stamp; victim = i }
                seen += 1
            }
            i = (i + 1) & (table.capacity - 1)
        }
        evictionCursor = i
        if victim >= 0 { remove(at: victim) }
    }
}
