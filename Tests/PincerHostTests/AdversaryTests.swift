// The adversarial proof: a hostile plugin (Tests/Fixtures/c/adversary.c) attacks every
// host function from 8 threads — NULLs, bad UTF-8, wrapped counts, unterminated and
// oversized input, forged and neighbouring handles, calls during and after shutdown,
// recursion through a gate, storms of spawns, prompts, steers, keys, tools and a stuck
// gate — while a victim plugin (victim.c) loaded beside it keeps its sessions, metadata,
// rate-limit window and registrations.
//
// The storm runs in a child process (pincer-stress-host, Tests/StressHost) under caps, so
// a host that fails under attack — gigabytes, a stack overflow, a crash — fails this test
// instead of killing the test run:
//   address space (RLIMIT_AS)  2 GiB    the child's VmPeak is about 1.2 GiB, nearly all of it
//                                       reserved, not used: thread stacks and malloc arenas
//   CPU time (RLIMIT_CPU)      120 s    a full storm takes about 10 s of CPU
//   wall time                  120 s    the child is killed (SIGKILL) past it
// The bound the test asserts is on the peak resident set, VmHWM < 256 MiB. Measured:
// 85-87 MiB (five runs, debug build, 2 cores), of which 30 MiB is the host at rest. The
// headers bound what this storm can make the host hold — 256 tools × 64 KiB schemas
// (PINCER_MAX_TOOLS_PER_PLUGIN), 16 MiB of queued prompts (PINCER_MAX_QUEUED_MESSAGE_BYTES),
// 3 runs × 32 steers × 64 KiB (PINCER_STEER_MAX_PENDING), 72 gate calls waiting or refused
// (PINCER_HOOK_MAX_PENDING_GATES), keys of at most 1 KiB (rate_limit.h) — about 150 MiB
// with the host at rest; 256 MiB leaves room for the allocator's slack and nothing for a
// leak that grows with the storm. The memory figures themselves belong to the benchmark:
// scripts/storm prints them, before (rc1) and after.
//
// A second test holds the bound this storm found missing: ended runs keep their texts within
// 64 MiB (host.h, wait()), however many 1 MiB prompts a plugin waits through.
//
// Valgrind (not in CI: 3 to 8 minutes on 2 cores), on the debug build, a reduced storm:
//   valgrind --error-exitcode=99 --fair-sched=yes --num-callers=30 \
//     .build/debug/pincer-stress-host --plugins DIR --percent 25 --memory-mib 65536 --cpu-seconds 3000
// where DIR holds adversary.so and victim.so (scripts/storm --valgrind builds them and runs this;
// its header has the result and how the leak report reads).

import CPincer
import Foundation
import Testing

// Serialized: each storm gets the machine's cores to itself, so its bounds are met in rounds, not raced.
@Suite(.serialized) struct AdversaryTests {
    static let stressHost = Repo.path(".build/debug/pincer-stress-host")
    static let maxResidentKiB = 256 << 10

    /// One run of the stress host over freshly built fixtures: its exit status and its JSON line.
    func storm() throws -> (status: Int32, report: [String: Any], errors: String) {
        try #require(FileManager.default.isExecutableFile(atPath: Self.stressHost),
                     "no stress host at \(Self.stressHost): build it first (swift build --build-tests)")
        let directory = NSTemporaryDirectory() + "pincer-storm-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Fixtures.build("Tests/Fixtures/c/adversary.c", into: directory, as: "adversary.so")
        try Fixtures.build("Tests/Fixtures/c/victim.c", into: directory, as: "victim.so")
        let run = try runCommandStatus(Self.stressHost, ["--plugins", directory, "--memory-mib", "2048", "--cpu-seconds", "120"],
                                       killAfter: 120)
        let line = run.output.split(separator: "\n").last.map(String.init) ?? ""
        let report = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        return (run.status, report, run.errors)
    }

    @Test func theHostAndItsNeighbourOutliveAnAdversaryOnEightThreads() throws {
        let run = try storm()
        // A crash, a cap's signal or the wall-time kill shows here as a negative status.
        try #require(run.status == 0, "stress host \(run.status < 0 ? "killed by signal \(-run.status)" : "exited \(run.status)"): \(run.errors.suffix(2000)) \(run.report)")
        let victim = run.report["victimCheck"] as? [String: Any]
        #expect(victim?["code"] as? Int == 0, "the victim lost something: \(victim ?? [:])")
        let hwm = run.report["vmHWMKiB"] as? Int ?? .max
        #expect(hwm < Self.maxResidentKiB, "peak resident set \(hwm) KiB, bound \(Self.maxResidentKiB) KiB")

        let storm = try #require((run.report["storm"] as? [String: Any])?["report"] as? [String: Any], "\(run.report)")
        let misses = storm["misses"] as? [[String: Any]] ?? []
        #expect(misses.isEmpty, "calls answered with a code the headers do not allow: \(misses)")

        // Recursion through a gate stops at the nesting bound, with a code and a message naming it.
        let recursion = storm["recursion"] as? [String: Any] ?? [:]
        #expect(recursion["code"] as? Int == Int(PINCER_ERR_LIMIT.rawValue), "\(recursion)")
        #expect((recursion["message"] as? String)?.contains("PINCER_HOOK_MAX_NESTING") == true, "\(recursion)")
        #expect(recursion["depth"] as? Int == Int(PINCER_HOOK_MAX_NESTING) + 1, "\(recursion)")
        #expect(run.report["nestingLogged"] as? Bool == true)
        #expect(storm["toolGateWaitCode"] as? Int == Int(PINCER_ERR_WOULD_BLOCK.rawValue))
        #expect(storm["selfDeleteStatus"] as? Int == Int(PINCER_RUN_CANCELLED.rawValue))

        // No handle of another plugin within ±64 KiB of the adversary's own.
        let neighbour = storm["neighbour"] as? [String: Any] ?? [:]
        #expect(neighbour["nearFound"] as? Bool == false, "\(neighbour)")

        // Every bound held under load, and was met.
        let prompts = storm["prompts"] as? [String: Any] ?? [:], steers = storm["steers"] as? [String: Any] ?? [:]
        let spawns = storm["spawns"] as? [String: Any] ?? [:], tools = storm["tools"] as? [String: Any] ?? [:]
        let keys = storm["rateLimit"] as? [String: Any] ?? [:]
        #expect(prompts["ok"] as? Int == Int(PINCER_MAX_QUEUED_MESSAGE_BYTES / PINCER_MAX_MESSAGE_BYTES), "1 MiB prompts queued: \(prompts)")
        #expect((prompts["limit"] as? Int ?? 0) > 0)
        #expect((steers["busy"] as? Int ?? 0) > 0, "\(steers)")
        #expect((spawns["laneRefused"] as? Int ?? 0) > 0, "no spawn of the burst was refused at once by a full or overdue gate lane: \(spawns)")
        #expect((spawns["denied"] as? Int ?? 0) > 0, "\(spawns)")
        #expect((tools["toolLimitHits"] as? Int ?? 0) > 0 && (tools["hookLimitHits"] as? Int ?? 0) > 0, "\(tools)")
        #expect(keys["keysFilled"] as? Int == 16 && keys["keysExact"] as? Int == 16, "keys of max_requests 65535: \(keys)")

        // Calls kept coming while the plugin stopped and after it died; each got its code.
        let after = try #require((run.report["afterShutdown"] as? [String: Any])?["report"] as? [String: Any], "\(run.report)")
        #expect(after["unexpected"] as? Int == 0, "\(after)")
        #expect((after["callsWhileStopping"] as? Int ?? 0) > 0 && (after["callsAfterDead"] as? Int ?? 0) > 0, "\(after)")
        #expect(after["lingerGateSawStopping"] as? Bool == true)
        // Each tool registered while the plugin stopped is released exactly once: by its unregister, or
        // by the host withdrawing it before shutdown(). (This storm found one registered in the instant
        // between that withdrawal and the plugin's death, never released; c6e9b2e refuses it now.)
        #expect((after["lingerRegistered"] as? Int ?? 0) > 0 && after["lingerReleased"] as? Int == after["lingerRegistered"] as? Int, "\(after)")
    }

    /// 64 prompts of 1 MiB into one session, each waited for before the next: every one within
    /// every queue bound, and each ended run holding about 2.6 MiB (message, final text, events).
    /// host.h bounds what ended runs hold at 64 MiB; 64 unbounded runs would hold about 166 MiB.
    @Test func endedRunsHoldAtMost64MiB() throws {
        let pincer = Repo.path(".build/debug/pincer")
        try #require(FileManager.default.isExecutableFile(atPath: pincer), "no pincer binary at \(pincer): build it first")
        let directory = NSTemporaryDirectory() + "pincer-retained-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Fixtures.build("Benchmarks/plugins/storm_plugin.c", into: directory, as: "storm.so")
        var environment = ProcessInfo.processInfo.environment
        environment["PINCER_STORM"] = "retained"
        environment["PINCER_STORM_COUNT"] = "64"
        // Capped like the storm above: 2 GiB of address space, 120 s of CPU, killed after 120 s.
        let run = try runCommandStatus("/bin/sh", ["-c", "ulimit -v 2097152; ulimit -t 120; exec \"$0\" run --no-store --plugins \"$1\" hi",
                                                   pincer, directory], environment: environment, killAfter: 120)
        try #require(run.status == 0, "pincer run: status \(run.status): \(run.errors.suffix(2000))")
        // "storm retained x64: 64/0; VmRSS before <kB> kB; VmHWM <kB> kB"
        let line = try #require(run.errors.split(separator: "\n").first { $0.hasPrefix("storm retained") }, "\(run.errors.suffix(2000))")
        let figures = line.split(separator: " ").compactMap { Int($0) }
        try #require(line.contains("64/0") && figures.count == 2, "\(line)")
        // The budget, plus 32 MiB for the run at work (its transcript, the model's copies) and the allocator.
        #expect(figures[1] - figures[0] < (64 + 32) << 10, "64 ended runs of 1 MiB grew the host by \(figures[1] - figures[0]) KiB (\(line))")
    }
}
