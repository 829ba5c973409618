// swift-bench: times host calls made through PincerPluginKit, for pincer-bench
// to set beside the raw C calls of Benchmarks/plugins/bench_plugin.c measured
// in the same run. It offers "pincer.bench-swift/1" (the table below, read by
// pincer-bench as a C struct) and the tool swift-bench.echo for the tool-call
// round trip.

import PincerPluginKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The table pincer-bench calls: three C function pointers, laid out as in its BenchSwiftTable.
struct BenchSwiftTable {
    var isStreaming: @convention(c) (UnsafePointer<CChar>?, UInt64) -> Double
    var rateLimit: @convention(c) (UInt32, UInt64, UInt32, UInt64, UnsafeMutablePointer<UInt64>?) -> Double
    var resetKeys: @convention(c) (UInt32) -> Void
}

private let benchHost = Mutex<PincerHost?>(nil)

private func nowNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// A timing of failing calls means nothing: says why on stderr and answers -1.
private func failed(_ count: Int, _ error: (any Error)?) -> Double {
    let line = "swift-bench: \(count) calls failed: \(error.map { "\($0)" } ?? "")\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    return -1
}

/// ns per isStreaming over `iterations`, on the plugin's own session.
private let timeIsStreaming: @convention(c) (UnsafePointer<CChar>?, UInt64) -> Double = { key, iterations in
    guard let host = benchHost.withLock({ $0 }), let key else { return -1 }
    let sessionKey = String(cString: key)
    var failures = 0, streaming: UInt64 = 0
    var lastError: (any Error)?
    let start = nowNs()
    for _ in 0..<iterations {
        do { streaming += try host.isStreaming(sessionKey) ? 1 : 0 } catch { failures += 1; lastError = error }
    }
    let elapsed = nowNs() - start
    // The count keeps the answers live (not optimised away); failures void the timing, as in bench_plugin.c.
    return failures > 0 || streaming > iterations ? failed(failures, lastError) : Double(elapsed) / Double(iterations)
}

/// The first `keyCount` keys timeRateLimit uses, named as bench_plugin.c names them.
private func benchKeys(_ keyCount: UInt32) -> [String] { (0..<keyCount).map { "198.51.\($0 / 256).\($0 % 256)" } }

/// Forgets the windows of those keys, so a fill can be timed again from the same state.
private let resetKeys: @convention(c) (UInt32) -> Void = { keyCount in
    guard let host = benchHost.withLock({ $0 }) else { return }
    for key in benchKeys(keyCount) { try? host.rateLimitReset(key) }
}

/// ns per rateLimitCheck over `iterations`, cycling through the first `keyCount` bench keys.
private let timeRateLimit: @convention(c) (UInt32, UInt64, UInt32, UInt64, UnsafeMutablePointer<UInt64>?) -> Double = {
    keyCount, iterations, maxRequests, windowMs, allowed in
    guard let host = benchHost.withLock({ $0 }) else { return -1 }
    let keys = benchKeys(keyCount)
    var ok: UInt64 = 0, failures = 0, k = 0
    var lastError: (any Error)?
    let start = nowNs()
    for _ in 0..<iterations {
        do { ok += try host.rateLimitCheck(keys[k], maxRequests: maxRequests, windowMs: windowMs).allowed ? 1 : 0 } catch { failures += 1; lastError = error }
        k += 1
        if k == keys.count { k = 0 }
    }
    let elapsed = nowNs() - start
    allowed?.pointee = ok
    return failures > 0 ? failed(failures, lastError) : Double(elapsed) / Double(iterations)
}

// Written once, at its lazy initialisation (which Swift makes thread-safe), and only read after.
nonisolated(unsafe) private let table: UnsafePointer<BenchSwiftTable> = {
    let table = UnsafeMutablePointer<BenchSwiftTable>.allocate(capacity: 1)
    table.initialize(to: BenchSwiftTable(isStreaming: timeIsStreaming, rateLimit: timeRateLimit, resetKeys: resetKeys))
    return UnsafePointer(table)
}()

final class SwiftBench: Plugin {
    static let descriptor = PluginDescriptor(id: "swift-bench", name: "Swift benchmark", version: "1.0.0",
                                             summary: "Times host calls through PincerPluginKit.",
                                             capabilities: [.sessionsRead, .rateLimit, .toolsRegister])

    init(host: PincerHost) throws {
        benchHost.withLock { $0 = host }
        try host.registerTool("swift-bench.echo", description: "Answers ok.") { _ in "ok" }
    }

    func extensionTable(_ id: String) -> UnsafeRawPointer? {
        id == "pincer.bench-swift/1" ? UnsafeRawPointer(table) : nil
    }
}

@_cdecl("pincer_plugin_get")
public func entry() -> UnsafePointer<pincer_plugin_entry> { PluginEntry.make(SwiftBench.self) }
