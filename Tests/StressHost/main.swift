// pincer-stress-host: the adversary storm (Tests/Fixtures/c/adversary.c) against a real
// host, in a process of its own under caps its caller chooses, so a host that fails under
// attack (gigabytes, a stack overflow, a crash) fails the one test or script that ran it
// instead of taking the test run or the machine down with it.
//
// It loads every .so in a directory, runs the victim's "setup", the adversary's "storm",
// the victim's "check", shuts the host down, runs the adversary's "after_shutdown" against
// its dead handle, and prints one JSON line: each case's code and report, and the memory
// figures (VmHWM is the peak resident set the bound is about).
//
// Usage: pincer-stress-host --plugins DIR [--memory-mib N] [--cpu-seconds N] [--percent P]
//   --memory-mib   RLIMIT_AS, in MiB (default 4096): past it allocations fail and the process dies
//   --cpu-seconds  RLIMIT_CPU (default 300): a livelock ends with SIGXCPU
//   --percent      the storm's size (default 100; valgrind runs use a few)
// Exit status 0 when every case ran and passed; the report says what each found.

import Foundation
import PincerCore
import PincerHost
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var plugins = ""
    var memoryMiB = 4096
    var cpuSeconds = 300
    var percent = 100

    init(_ arguments: [String]) {
        var i = 1
        func value() -> String {
            i += 1
            guard i < arguments.count else { fail("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--plugins": plugins = value()
            case "--memory-mib": memoryMiB = Int(value()) ?? memoryMiB
            case "--cpu-seconds": cpuSeconds = Int(value()) ?? cpuSeconds
            case "--percent": percent = Int(value()) ?? percent
            default: fail("unknown argument \(arguments[i])")
            }
            i += 1
        }
        if plugins.isEmpty { fail("--plugins DIR is required") }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("pincer-stress-host: \(message)\n".utf8))
    exit(2)
}

func limit(_ resource: Int32, _ value: Int) {
    var limit = rlimit(rlim_cur: rlim_t(value), rlim_max: rlim_t(value))
    guard setrlimit(__rlimit_resource_t(resource), &limit) == 0 else { fail("setrlimit(\(resource)) failed: \(String(cString: strerror(errno)))") }
}

/// A line of /proc/self/status in KiB ("VmHWM", "VmRSS", "VmPeak").
func statusKiB(_ field: String) -> Int {
    let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? -1
    }
    return -1
}

/// What the host logs, as counts and the lines worth reading (capped: a storm logs thousands).
final class Lines: Sendable {
    private struct State {
        var host = 0, plugin = 0
        var notable: [String] = []
        var nesting = false
    }

    private let state = Mutex(State())
    /// Lines that say something about the host's own health rather than the storm's refusals:
    /// registrations never released, a drain overrun, a store failure, and the nesting refusal.
    private static let notableParts = ["never released", "still running after", "store", "PINCER_HOOK_MAX_NESTING"]

    func host(_ line: String) {
        state.withLock { state in
            state.host += 1
            if line.contains("PINCER_HOOK_MAX_NESTING") { state.nesting = true }
            if state.notable.count < 20, Lines.notableParts.contains(where: { line.contains($0) }) {
                state.notable.append(String(line.prefix(300)))
            }
        }
    }

    func plugin() { state.withLock { $0.plugin += 1 } }

    var json: [(String, JSON)] {
        state.withLock { state in
            [("hostLines", JSON(state.host)), ("pluginLines", JSON(state.plugin)), ("nestingLogged", .bool(state.nesting)),
             ("notableHostLines", .array(state.notable.map { .string($0) }))]
        }
    }
}

typealias RunCase = @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> Int32

/// A fixture's case runner (fixture.h's "pincer.test/1"), fetched while the plugin is live; it
/// keeps working after shutdown, so a case can run against the dead handle.
func runner(_ host: PluginHost, _ id: String) -> RunCase {
    guard let table = host.pluginExtension(pluginId: id, "pincer.test/1") else { fail("plugin \(id) did not load, or has no test extension") }
    return table.load(as: RunCase.self)
}

/// Runs a case: its code, and its report (parsed when it is JSON, as the adversary's are).
func run(_ runCase: RunCase, _ name: String) -> (passed: Bool, json: JSON) {
    var report = [CChar](repeating: 0, count: 256 << 10)
    let code = runCase(name, &report, report.count)
    let text = report.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    let parsed = text.hasPrefix("{") ? (try? JSON.parse(text)) : nil
    return (code == 0, .object([("code", JSON(Int(code))), ("report", parsed ?? .string(text))]))
}

let options = Options(CommandLine.arguments)
limit(Int32(RLIMIT_AS.rawValue), options.memoryMiB << 20)
limit(Int32(RLIMIT_CPU.rawValue), options.cpuSeconds)
let started = MonotonicClock.nanoseconds()

var config = OperatorConfig()
config.engine.tokenDelayMs = 1
// A gate stuck past the storm must not hold shutdown for the default 5 s.
config.drainTimeoutMs = 2000
let lines = Lines()
let engine: Engine
do { engine = try config.makeEngine() } catch { fail("cannot start the engine: \(error)") }
let host = PluginHost(engine: engine, config: config, log: { _, _, _ in lines.plugin() }, hostLog: { lines.host($0) })
do { try host.loadDirectory(options.plugins) } catch { fail("\(error)") }
host.start()
var rss: [(String, JSON)] = [("loaded", JSON(statusKiB("VmRSS")))]

let victim = runner(host, "fx-victim"), adversary = runner(host, "fx-adversary")
let setup = run(victim, "setup")
rss.append(("afterSetup", JSON(statusKiB("VmRSS"))))
let storm = run(adversary, "storm:\(options.percent)")
rss.append(("afterStorm", JSON(statusKiB("VmRSS"))))
let check = run(victim, "check")
host.shutdown()
rss.append(("afterShutdown", JSON(statusKiB("VmRSS"))))
let afterShutdown = run(adversary, "after_shutdown")

let passed = setup.passed && storm.passed && check.passed && afterShutdown.passed
let outcome: JSON = .object([
    ("ok", .bool(passed)), ("percent", JSON(options.percent)),
    ("seconds", .number(JSON.Number(Double((MonotonicClock.nanoseconds() - started) / 1_000_000) / 1000))),
    ("vmHWMKiB", JSON(statusKiB("VmHWM"))), ("vmPeakKiB", JSON(statusKiB("VmPeak"))), ("rssKiB", .object(rss)),
    ("memoryCapMiB", JSON(options.memoryMiB)),
    ("victimSetup", setup.json), ("storm", storm.json), ("victimCheck", check.json), ("afterShutdown", afterShutdown.json),
] + lines.json)
print(outcome.description)
exit(passed ? 0 : 1)
