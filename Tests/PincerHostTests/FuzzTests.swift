// The short libFuzzer run (issue 9 item 8): scripts/fuzz for 60 s from an empty corpus, against
// the pincer-fuzz-host the test build made. Arbitrary bytes reach every host-table function
// through the real loader and thunks (keys, texts, JSON, struct sizes, counts, NULLs, forged,
// damaged and stale handles, stale keys, run ids and registrations), and the plugin's tools and
// hooks answer the host as badly; every call must answer a code its header allows (the oracle is
// in Tests/Fuzz/fuzz_plugin.c), nothing may crash or hang, and LeakSanitizer must find no leak
// once the host has shut down (Tests/Fuzz/lsan.supp says what it may not count, and why).
//
// The whole run is capped at two minutes: 60 s of fuzzing, building the plugin (a few seconds),
// the host's shutdown and the leak check, killed past 120 s. The longer run and its figures are
// in scripts/fuzz's header.

import Foundation
import Testing

@Suite(.serialized) struct FuzzTests {
    static let fuzzHost = Repo.path(".build/debug/pincer-fuzz-host")

    @Test func aMinuteOfArbitraryBytesThroughTheHostTable() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.fuzzHost),
                     "no fuzz host at \(Self.fuzzHost): build it first (swift build --build-tests)")
        let corpus = NSTemporaryDirectory() + "pincer-fuzz-corpus-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: corpus) }
        let run = try runCommandStatus(Repo.path("scripts/fuzz"), ["--no-build", "--host", Self.fuzzHost, "--seconds", "60", "--corpus", corpus],
                                       killAfter: 120)
        let summary = run.output.split(separator: "\n").filter { $0.hasPrefix("fuzz:") }.joined(separator: "\n")
        try #require(run.status == 0, "scripts/fuzz: status \(run.status)\n\(run.output.suffix(6000))\n\(run.errors.suffix(2000))")
        // What the run reached: inputs ran, the host shut down cleanly, the leak check ran clean.
        #expect(summary.contains("LeakSanitizer clean"), "\(summary)")
        #expect(summary.contains("findings: none"), "\(summary)")
        let runs = summary.split(separator: " ").firstIndex(of: "runs").map { summary.split(separator: " ")[$0 + 1] }.flatMap { Int($0) } ?? 0
        #expect(runs > 1000, "only \(runs) inputs in a minute: \(summary)")
    }
}
