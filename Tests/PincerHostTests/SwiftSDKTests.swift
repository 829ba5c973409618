// PincerPluginKit, the Swift SDK: a Swift plugin built with it as an author
// would (SwiftPM, the kit's package template) loads into the real host, walks
// the whole host table, shares the host's one Swift runtime, exports only its
// entry, and loads beside another Swift plugin.

import Foundation
import PincerCore
@testable import PincerHost
import Testing

@Suite(.serialized) struct SwiftSDKTests {
    static let probePackage = "Tests/Fixtures/swift/kit-probe"
    static let envelopePackage = "SamplePlugins/swift/session-envelope"

    private func loadProbe(into t: TestHost) throws -> PluginRecord {
        let built = try SwiftPlugins.build(Self.probePackage, product: "kit-probe")
        let path = "\(t.directory)/libkit-probe.so"
        try FileManager.default.copyItem(atPath: built, toPath: path)
        return t.host.load(file: path)
    }

    /// Waits without holding a thread of Swift's cooperative pool: the plugin's own tasks run
    /// on that pool (the host process has one), and on two cores it has two threads. In the
    /// full suite, synchronous tests that build fixtures (cargo, swift build) hold both for
    /// a minute or more, and the probe's tour waits for them: hence the generous deadline.
    private func waitFor(_ line: String, in t: TestHost) async throws {
        let deadline = Date().addingTimeInterval(240)
        while !t.logs.contains(line), Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func aSwiftPluginWalksTheWholeHostTable() async throws {
        let t = try TestHost()
        defer { t.close() }
        let record = try loadProbe(into: t)
        #expect(record.state == .loaded, "\(record.reason ?? "")")
        #expect(record.language == "swift")
        #expect(record.sdk == "PincerPluginKit/0.1.0")
        t.host.start()
        try await waitFor("tour finished", in: t)
        t.host.shutdown()
        let log = t.logs.all.joined(separator: "\n")
        for line in [
            "[kit-probe] info: init on pincer",
            "extension pincer.acp/2: nil",
            "config: {}",
            "status starts: {\"host\":",
            "models: true",
            "gateway refused: DENIED",
            "wait: completed",
            "kit-probe.once → once from kit-probe.once",
            "echo {\"n\":1} for kit-probe.echo",
            // A Swift error thrown in a tool: an error result for the call, and a line in the log.
            "[kit-probe] error: tool kit-probe.fail threw: the probe refuses, as asked",
            "kit-probe.fail failed",
            "messages: true",
            "session has label: true",
            "metadata: {\"round\":2}",
            "is_streaming after the run: false",
            "steer on an idle session: no_active_run",
            "prompt then wait: failed",
            "rate limit: [true, true, false]",
            "after reset: 1",
            "unknown session: NOT_FOUND",
            "NUL key: INVALID_ARGUMENT",
            "stop requested: true",  // the run has ended: nothing more to run
            "deleted: NOT_FOUND",
            "observed finished",
            "tour finished",
        ] {
            #expect(log.contains(line), "the probe did not log: \(line)\n\(log)")
        }
        // The tool that unregistered itself mid-run: its closure released exactly once.
        #expect(t.logs.all.filter { $0.contains("released kit-probe.once") }.count == 1, "\(log)")
    }

    @Test func aSwiftPluginExportsOnlyItsEntry() throws {
        for (package, product) in [(Self.probePackage, "kit-probe"), (Self.envelopePackage, "session-envelope")] {
            #expect(try exportedSymbols(try SwiftPlugins.build(package, product: product)) == ["pincer_plugin_get"], "\(product)")
        }
    }

    /// A Swift plugin links the toolchain's shared Swift runtime, as the host does: loaded into
    /// the host, it finds the runtime already mapped and uses it (one copy in the process).
    @Test func aSwiftPluginSharesTheHostsSwiftRuntime() throws {
        let t = try TestHost()
        defer { t.close() }
        let record = try loadProbe(into: t)
        #expect(record.state == .loaded, "\(record.reason ?? "")")
        let needed = try runCommand("/usr/bin/env", ["readelf", "-d", "\(t.directory)/libkit-probe.so"])
        #expect(needed.contains("[libswiftCore.so]"))
        let maps = try runCommand("/usr/bin/env", ["cat", "/proc/\(getpid())/maps"])  // procfs files report size 0: read them by streaming
        let runtimes = Set(maps.split(separator: "\n").compactMap { line -> String? in
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.hasSuffix("/libswiftCore.so") else { return nil }
            return String(path)
        })
        #expect(runtimes.count == 1, "\(runtimes)")
    }

    /// Two Swift plugins, each with its own copy of the kit (hidden, so neither sees the
    /// other's), load into one host and both work.
    @Test func twoSwiftPluginsLoadTogetherAndBothWork() async throws {
        let t = try TestHost()
        defer { t.close() }
        let envelope = try SwiftPlugins.build(Self.envelopePackage, product: "session-envelope")
        try FileManager.default.copyItem(atPath: envelope, toPath: "\(t.directory)/libsession-envelope.so")
        let first = t.host.load(file: "\(t.directory)/libsession-envelope.so")
        let second = try loadProbe(into: t)
        #expect(first.state == .loaded && second.state == .loaded, "\(first.reason ?? "") \(second.reason ?? "")")
        t.host.start()
        try await waitFor("tour finished", in: t)
        #expect(t.logs.contains("wait: completed"), "\(t.logs.all)")
        // The envelope's gate runs for its own namespace even beside the probe: a malformed policy is refused.
        #expect(throws: (any Error).self) {
            try t.engine.spawn(SessionSpec(message: "hi", metadata: ["session-envelope": .object([("commands", .string("date"))])]),
                               by: .plugin("session-envelope"))
        }
    }
}
