// The limiter slides (no fixed buckets), answers remaining and retry-after
// exactly, and keeps memory bounded under a flood of distinct keys.

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
}
