// Cold start: `pincer plugins list --plugins DIR` with one plugin, as a new
// process each time, against pincer-hello (a Swift program that only imports
// Foundation and prints a line), both release builds beside this binary. The
// two take turns, A B A B …, after a warm-up; the figures are medians of wall
// time (spawn to reaped) and of the child's CPU time (user + sys, from
// getrusage), and the ratio of the medians.

import Foundation
import PincerCore
#if canImport(Glibc)
import Glibc
#endif

struct ColdStart {
    var pincerWallMs: Double
    var helloWallMs: Double
    var pincerCPUMs: Double
    var helloCPUMs: Double

    var wallRatio: Double { pincerWallMs / helloWallMs }
    var cpuRatio: Double { pincerCPUMs / helloCPUMs }
}

/// nil when either binary is missing (scripts/bench builds both).
func measureColdStart(pluginDirectory: String, runs: Int) -> ColdStart? {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    let pincer = binaries.appendingPathComponent("pincer").path, hello = binaries.appendingPathComponent("pincer-hello").path
    guard FileManager.default.isExecutableFile(atPath: pincer), FileManager.default.isExecutableFile(atPath: hello) else { return nil }
    let a = [pincer, "plugins", "list", "--plugins", pluginDirectory], b = [hello]
    for _ in 0..<2 { _ = spawnAndReap(a); _ = spawnAndReap(b) }
    var pincerRuns: [(wall: Double, cpu: Double)] = [], helloRuns: [(wall: Double, cpu: Double)] = []
    for _ in 0..<runs {
        pincerRuns.append(spawnAndReap(a))
        helloRuns.append(spawnAndReap(b))
    }
    return ColdStart(pincerWallMs: median(pincerRuns.map(\.wall)), helloWallMs: median(helloRuns.map(\.wall)),
                     pincerCPUMs: median(pincerRuns.map(\.cpu)), helloCPUMs: median(helloRuns.map(\.cpu)))
}

/// Runs `argv` with stdout and stderr to /dev/null; its wall and CPU milliseconds.
private func spawnAndReap(_ argv: [String]) -> (wall: Double, cpu: Double) {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let arguments = argv.map { strdup($0) } + [nil]
    defer { for argument in arguments { free(argument) } }
    var before = rusage(), after = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &before)
    var pid: pid_t = 0
    let start = MonotonicClock.nanoseconds()
    guard posix_spawn(&pid, argv[0], &actions, nil, arguments, environ) == 0 else { fatalError("cannot start \(argv[0])") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    let wall = Double(MonotonicClock.nanoseconds() - start) / 1e6
    getrusage(RUSAGE_CHILDREN.rawValue, &after)
    func ms(_ t: timeval) -> Double { Double(t.tv_sec) * 1e3 + Double(t.tv_usec) / 1e3 }
    let cpu = ms(after.ru_utime) + ms(after.ru_stime) - ms(before.ru_utime) - ms(before.ru_stime)
    guard status == 0 else { fatalError("\(argv.joined(separator: " ")) exited with status \(status)") }
    return (wall, cpu)
}
