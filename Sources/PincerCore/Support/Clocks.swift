// The engine's clocks. MonotonicClock is the one time source for windows,
// timeouts and durations: CLOCK_MONOTONIC in nanoseconds (the coarse clock is
// cheaper but ticks every 4 ms here, too coarse for honest sliding windows).
// WallClock stamps what people read: transcript times, creation times.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum MonotonicClock {
    @inline(__always) public static func nanoseconds() -> UInt64 { clockNanoseconds(CLOCK_MONOTONIC) }

    public static func milliseconds() -> UInt64 { nanoseconds() / 1_000_000 }
}

/// The CPU time the calling thread has used, in nanoseconds (for benchmarks).
public enum ThreadCPUClock {
    public static func nanoseconds() -> UInt64 { clockNanoseconds(CLOCK_THREAD_CPUTIME_ID) }
}

/// The CPU time the whole process has used, all its threads, in nanoseconds (for benchmarks).
public enum ProcessCPUClock {
    public static func nanoseconds() -> UInt64 { clockNanoseconds(CLOCK_PROCESS_CPUTIME_ID) }
}

@inline(__always) private func clockNanoseconds(_ clock: clockid_t) -> UInt64 {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

public enum WallClock {
    public static func milliseconds() -> UInt64 { clockNanoseconds(CLOCK_REALTIME) / 1_000_000 }
}
