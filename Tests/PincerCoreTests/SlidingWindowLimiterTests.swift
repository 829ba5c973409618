// The limiter slides (no fixed buckets), answers remaining and retry-after
// exactly up to 64 requests in a window and within one sub-window past them,
// never allows more than max_requests in a window, and keeps memory bounded
// per key whatever max_requests is and under a flood of distinct keys.

@testable import PincerCore
import Testing

@Suite struct SlidingWindowLimiterTests {
    let ms: UInt64 = 1_000_000

    @Test func theWindowSlidesInsteadOfResettingOnABucketEdge() {
        let limiter = SlidingWindowLimiter()
        // 3 per 1000 ms. Requests at t = 900, 950, 990: a fixed bucket [0, 1000) would
        // reset at t = 1000 and allow three more; a sliding window allows none until t = 1900.
        for t in [900, 950, 990] as [UInt64] {
            #expect(limiter.check(key: "k", maxRequests: 3, windowMs: 1000, now: t * ms).allowed)
        }
        let atBucketEdge = limiter.check(key: "k", maxRequests: 3, windowMs: 1000, now: 1001 * ms)
        #expect(atBucketEdge == RateLimitDecision(allowed: false, remaining: 0, retryAfterMs: 899))
        #expect(!limiter.check(key: "k", maxRequests: 3, windowMs: 1000, now: 1899 * ms).allowed)
        // At 1900 the request from 900 has left: exactly one slot opens.
        #expect(limiter.check(key: "k", maxRequests: 3, windowMs: 1000, now: 1900 * ms) == RateLimitDecision(allowed: true, remaining: 0, retryAfterMs: 0))
        #expect(limiter.check(key: "k", maxRequests: 3, windowMs: 1000, now: 1901 * ms).retryAfterMs == 49)
    }

    @Test func aCheckCarryingAnOlderTimeDoesNotExpireTheWindow() {
        // Threads read the clock before taking the limiter's lock, so times can arrive out of order.
        let limiter = SlidingWindowLimiter()
        #expect(limiter.check(key: "k", maxRequests: 2, windowMs: 1000, now: 500 * ms).allowed)
        #expect(limiter.check(key: "k", maxRequests: 2, windowMs: 1000, now: 499 * ms).allowed)
        #expect(!limiter.check(key: "k", maxRequests: 2, windowMs: 1000, now: 498 * ms).allowed)
        // Enough new keys, with older times, to make the table sweep for idle keys: "k" is not idle.
        for i in 0..<40 { _ = limiter.check(key: "other\(i)", maxRequests: 2, windowMs: 1000, now: 400 * ms) }
        #expect(!limiter.check(key: "k", maxRequests: 2, windowMs: 1000, now: 501 * ms).allowed)
    }

    @Test func onlyAllowedChecksCount() {
        let limiter = SlidingWindowLimiter()
        #expect(limiter.check(key: "k", maxRequests: 1, windowMs: 100, now: 0).allowed)
        for t in stride(from: UInt64(1), to: 100, by: 7) {
            #expect(!limiter.check(key: "k", maxRequests: 1, windowMs: 100, now: t * ms).allowed)
        }
        // Refused checks did not push the window forward.
        #expect(limiter.check(key: "k", maxRequests: 1, windowMs: 100, now: 100 * ms).allowed)
    }

    @Test func ringGrowsThroughWrapAroundAndKeepsOrder() {
        let limiter = SlidingWindowLimiter()
        // Fill and drain so the ring's head moves, then grow it while wrapped.
        for t in 0..<5 as Range<UInt64> { _ = limiter.check(key: "k", maxRequests: 64, windowMs: 10, now: t * ms) }
        for t in 12..<40 as Range<UInt64> {
            #expect(limiter.check(key: "k", maxRequests: 64, windowMs: 10, now: t * ms).allowed)
        }
        // Ten requests at t = 30..39 are in the window at t = 39.5: 64 - 10 - 1 remain after one more.
        #expect(limiter.check(key: "k", maxRequests: 64, windowMs: 10, now: 39 * ms + ms / 2).remaining == 53)
        // The oldest left is t = 30: refused checks name it once the limit is reached.
        let tight = limiter.check(key: "k", maxRequests: 11, windowMs: 10, now: 39 * ms + ms / 2)
        #expect(tight == RateLimitDecision(allowed: false, remaining: 0, retryAfterMs: 1))
    }

    @Test func resetForgetsOneKeyOnly() {
        let limiter = SlidingWindowLimiter()
        _ = limiter.check(key: "a", maxRequests: 1, windowMs: 1000, now: 0)
        _ = limiter.check(key: "b", maxRequests: 1, windowMs: 1000, now: 0)
        limiter.reset(key: "a")
        #expect(limiter.check(key: "a", maxRequests: 1, windowMs: 1000, now: ms).allowed)
        #expect(!limiter.check(key: "b", maxRequests: 1, windowMs: 1000, now: ms).allowed)
        #expect(limiter.trackedKeys == 2)
    }

    @Test func idleKeysAreEvictedUnderAMillionDistinctKeys() {
        let limiter = SlidingWindowLimiter(maxKeys: 10_000_000)
        // A million keys, each seen once, 1 µs apart, with a 5 ms window: at any moment
        // only ~5,000 are active, and only those may stay.
        for i in 0..<1_000_000 {
            _ = limiter.check(key: "ip-\(i)", maxRequests: 10, windowMs: 5, now: UInt64(i) * 1000)
        }
        #expect(limiter.trackedKeys <= 16_384, "tracked \(limiter.trackedKeys)")
        #expect(limiter.footprintBytes < 4 << 20, "footprint \(limiter.footprintBytes) bytes")
    }

    @Test func theKeyCapBoundsMemoryWhenEveryKeyStaysActive() {
        let limiter = SlidingWindowLimiter(maxKeys: 1000)
        for i in 0..<1_000_000 {
            _ = limiter.check(key: "k\(i)", maxRequests: 5, windowMs: 3_600_000, now: UInt64(i) * 1000)
        }
        #expect(limiter.trackedKeys <= 1000)
        #expect(limiter.footprintBytes < 256 << 10, "footprint \(limiter.footprintBytes) bytes")
        // The most recent key survived eviction; its history is intact.
        #expect(limiter.check(key: "k999999", maxRequests: 1, windowMs: 3_600_000, now: 1_000_000_000).allowed == false)
    }

    @Test func memoryPerKeyAndPerRequestStayWithinTheirBudgets() {
        let one = SlidingWindowLimiter(), thirty = SlidingWindowLimiter()
        for i in 0..<10_000 {
            _ = one.check(key: "203.0.113.\(i)", maxRequests: 100, windowMs: 60_000, now: 0)
            for r in 0..<30 { _ = thirty.check(key: "203.0.113.\(i)", maxRequests: 100, windowMs: 60_000, now: UInt64(r)) }
        }
        let perKey = Double(one.footprintBytes) / 10_000
        let perRequest = Double(thirty.footprintBytes - one.footprintBytes) / (10_000 * 29)
        #expect(perKey <= 80, "\(perKey) bytes per key")
        #expect(perRequest <= 16, "\(perRequest) bytes per request")
    }

    // MARK: - Past 64 requests in a window: counts per 1/128 of the window

    @Test(arguments: [0, 1, 2, 3, 4, 5, 6, 7] as [UInt64])
    func smallLimitsStayExact(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let limit = UInt32.random(in: 1...64, using: &random)
        let windowNs = UInt64.random(in: 1...2000, using: &random) * ms
        let limiter = SlidingWindowLimiter()
        var allowed: [UInt64] = []
        var now: UInt64 = 0
        for _ in 0..<20_000 {
            now += random.gap(windowNs: windowNs, limit: limit)
            let decision = limiter.check(key: "k", maxRequests: limit, windowMs: windowNs / ms, now: now)
            // An exact sliding window: the allowed requests made after now - window.
            let inWindow = allowed.suffix(where: { $0 + windowNs > now })
            let expected = inWindow.count < limit
                ? RateLimitDecision(allowed: true, remaining: limit - UInt32(inWindow.count) - 1, retryAfterMs: 0)
                : RateLimitDecision(allowed: false, remaining: 0, retryAfterMs: (inWindow.first! + windowNs - now + ms - 1) / ms)
            try #require(decision == expected, "limit \(limit), window \(windowNs / ms) ms, at \(now) ns")
            if decision.allowed { allowed.append(now) }
        }
        #expect(allowed.count > Int(limit), "the run never filled a window")
        #expect(allowed.count < 20_000, "the run never refused")
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5, 6, 7] as [UInt64])
    func neverMoreThanMaxRequestsInAnyWindowAndNeverRefusedEarlierThanOneSubWindow(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let limit = UInt32.random(in: 65...3000, using: &random)
        let windowNs = UInt64.random(in: 1...5000, using: &random) * ms
        let subWindow = (windowNs + 127) / 128
        let limiter = SlidingWindowLimiter()
        var allowed: [UInt64] = []
        var now: UInt64 = 0
        for _ in 0..<30_000 {
            now += random.gap(windowNs: windowNs, limit: limit)
            let decision = limiter.check(key: "k", maxRequests: limit, windowMs: windowNs / ms, now: now)
            if decision.allowed {
                allowed.append(now)
                // Any window holds at most what the one ending at its last allowed request holds.
                let inWindow = allowed.suffix(where: { $0 + windowNs > now }).count
                try #require(inWindow <= Int(limit), "\(inWindow) allowed in \(windowNs / ms) ms at \(now) ns; limit \(limit)")
            } else {
                // A refusal means the limit was reached in a window stretched by one sub-window.
                let inStretched = allowed.suffix(where: { $0 + windowNs + subWindow > now }).count
                try #require(inStretched >= Int(limit), "refused with \(inStretched) allowed in window + sub-window at \(now) ns")
                try #require(decision.retryAfterMs >= 1 && decision.retryAfterMs * ms <= windowNs + subWindow + ms)
            }
        }
        #expect(allowed.count > Int(limit), "the run never filled a window")
        #expect(allowed.count < 30_000, "the run never refused")
    }

    @Test func retryAfterNamesWhenTheOldestSubWindowLeaves() {
        let limiter = SlidingWindowLimiter()
        // 100 per second, used up at t = 0, 1, ..., 99 ms. Sub-windows are 1000/128 = 7.8125 ms:
        // the first holds the requests at 0...7 ms and stops counting at 1007.8125 ms.
        for t in 0..<100 as Range<UInt64> {
            #expect(limiter.check(key: "k", maxRequests: 100, windowMs: 1000, now: t * ms).allowed)
        }
        #expect(limiter.check(key: "k", maxRequests: 100, windowMs: 1000, now: 500 * ms) == RateLimitDecision(allowed: false, remaining: 0, retryAfterMs: 508))
        // The exact limit would allow at 1000 ms; counting by sub-window refuses until 1007.8125 ms.
        #expect(limiter.check(key: "k", maxRequests: 100, windowMs: 1000, now: 1007 * ms) == RateLimitDecision(allowed: false, remaining: 0, retryAfterMs: 1))
        #expect(limiter.check(key: "k", maxRequests: 100, windowMs: 1000, now: 1008 * ms) == RateLimitDecision(allowed: true, remaining: 7, retryAfterMs: 0))
    }

    @Test func aNewWindowKeepsTheCountsItStillCovers() {
        let limiter = SlidingWindowLimiter()
        for t in 0..<100 as Range<UInt64> { _ = limiter.check(key: "k", maxRequests: 100, windowMs: 1000, now: t * ms) }
        // Doubled, the window still holds all 100 (the exact limit would wait until 2000 ms):
        // they are moved onto 15.625 ms sub-windows, never earlier than they were made.
        let widened = limiter.check(key: "k", maxRequests: 100, windowMs: 2000, now: 1500 * ms)
        #expect(!widened.allowed)
        #expect((500...516).contains(widened.retryAfterMs), "\(widened)")
        // Narrowed to 400 ms, none of them is inside it any more.
        #expect(limiter.check(key: "k", maxRequests: 100, windowMs: 400, now: 1500 * ms) == RateLimitDecision(allowed: true, remaining: 99, retryAfterMs: 0))
    }

    @Test(arguments: [64, 65, 1000, 65535] as [UInt32])
    func aKeyStaysUnderOneKibibyteWhateverItsLimit(maxRequests: UInt32) {
        let limiter = SlidingWindowLimiter()
        let key = String(repeating: "k", count: 256) // the longest key the ABI accepts
        for i in 0..<UInt64(maxRequests) {
            #expect(limiter.check(key: key, maxRequests: maxRequests, windowMs: 600_000, now: i * 1000).allowed)
        }
        #expect(!limiter.check(key: key, maxRequests: maxRequests, windowMs: 600_000, now: UInt64(maxRequests) * 1000).allowed)
        // The table's 16 empty slots (128 bytes) included.
        #expect(limiter.footprintBytes <= 1024, "\(limiter.footprintBytes) bytes for one key at \(maxRequests)")
    }
}

/// A seeded generator, so a failing case can be run again.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Time to the next request: on average twice as fast as the limit allows, with
    /// about one pause of up to two windows per window's worth of requests.
    mutating func gap(windowNs: UInt64, limit: UInt32) -> UInt64 {
        UInt64.random(in: 0..<2 * UInt64(limit), using: &self) == 0 ? UInt64.random(in: 0...2 * windowNs, using: &self)
                                                                    : UInt64.random(in: 0...windowNs / UInt64(limit), using: &self)
    }
}

private extension Array where Element == UInt64 {
    /// The sorted array's tail whose elements satisfy `isRecent` (false, then true, in order).
    func suffix(where isRecent: (UInt64) -> Bool) -> ArraySlice<UInt64> {
        var low = startIndex, high = endIndex
        while low < high {
            let mid = (low + high) / 2
            if isRecent(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return self[low...]
    }
}
