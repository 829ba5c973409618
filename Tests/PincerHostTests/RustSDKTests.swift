// The Rust SDK (SDKs/rust) from the host's side: plugins cargo builds load
// through the real loader, say they are Rust, export the entry alone, reach
// every host function through the safe layer, and a panic anywhere in them is
// an error result and a log line, never a crash of the host.

import Foundation
import PincerCore
@testable import PincerHost
import Testing

@Suite(.serialized) struct RustSDKTests {
    static let fixture = "Tests/Fixtures/rust/sdk-fixture"

    private func loadFixture(_ t: TestHost) throws -> PluginRecord {
        let path = try Cargo.plugin(RustSDKTests.fixture, library: "sdk_fixture", into: t.directory, as: "rs-fixture.so")
        return t.host.load(file: path)
    }

    private static let greeting = try! OperatorConfig.parse(
        #"{"plugins": {"entries": {"rs-fixture": {"config": {"greeting": "hi"}}}}}"#, source: "test")

    @Test func aCargoBuiltPluginLoadsSaysItIsRustAndExportsOnlyTheEntry() throws {
        let t = try TestHost(config: RustSDKTests.greeting)
        defer { t.close() }
        let record = try loadFixture(t)
        #expect(record.state == .loaded, "\(record.reason ?? "")")
        #expect(record.language == "rust")
        #expect(record.sdk == "pincer-rs/0.1.0")
        #expect(try exportedSymbols("\(t.directory)/rs-fixture.so") == ["pincer_plugin"])
        let sample = try Cargo.build("SamplePlugins/rust/swarm-steer", library: "swarm_steer")
        #expect(try exportedSymbols(sample) == ["pincer_plugin"])
    }

    @Test func everyHostFunctionAnswersThroughTheSafeLayer() throws {
        let t = try TestHost(config: RustSDKTests.greeting)
        defer { t.close() }
        #expect(try loadFixture(t).state == .loaded)
        t.host.start()
        // Includes: an extension this host lacks is None; errors carry last_error's text.
        let tour = t.run("rs-fixture", "tour")
        #expect(tour.passed, "\(tour.report)")
        #expect(t.logs.contains("[rs-fixture] info: tour starts"))
    }

    @Test func toolsAnswerAndAToolsErrorOrPanicReachesTheModelAsAnError() throws {
        let t = try TestHost(config: RustSDKTests.greeting)
        defer { t.close() }
        #expect(try loadFixture(t).state == .loaded)
        t.host.start()
        let started = try t.engine.spawn(SessionSpec(message: #"go @rs-fixture.hello{"n":1} @rs-fixture.fail @rs-fixture.boom @rs-fixture.hello"#),
                                         by: .operator)
        #expect(try t.engine.wait(runId: started.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        let results = try t.engine.transcript(sessionKey: started.sessionKey, by: .operator).filter { $0.role == .tool }
        #expect(results.map(\.isError) == [false, true, true, false])
        #expect(results.map(\.content).first == #"hello {"n":1}"#)
        #expect(results[1].content.contains("refused on purpose"), "\(results[1].content)")
        #expect(results[2].content.contains("tool rs-fixture.boom panicked: boom in rs-fixture.boom"), "\(results[2].content)")
        // The panic is logged under the plugin's id, and the plugin goes on serving (the last call).
        #expect(t.logs.contains("[rs-fixture] error: tool rs-fixture.boom panicked: boom in rs-fixture.boom"), "\(t.logs.all)")
    }

    @Test func initsErrorOrPanicRefusesThePluginWithItsMessage() throws {
        for (config, reason) in [(#"{"initFails": "no backend configured"}"#, "init failed with PINCER_ERR_LIMIT: no backend configured"),
                                 (#"{"initPanics": true}"#, "init failed with PINCER_ERR_PLUGIN: init panicked: init panics on purpose")] {
            let t = try TestHost(config: try OperatorConfig.parse(#"{"plugins": {"entries": {"rs-fixture": {"config": \#(config)}}}}"#, source: "test"))
            defer { t.close() }
            let record = try loadFixture(t)
            #expect(record.state != .loaded && record.reason?.contains(reason) == true, "\(record.reason ?? "loaded")")
            // What init registered before failing was withdrawn with it.
            #expect(t.engine.tools.tool(named: "rs-fixture.hello") == nil)
        }
    }

    @Test func aPanickingGateBlocksTheCallAndAPanickingShutdownIsCaught() throws {
        let t = try TestHost(config: RustSDKTests.greeting)
        defer { t.close() }
        #expect(try loadFixture(t).state == .loaded)
        t.host.start()
        // The plugin's own session: the sessions its hooks see.
        let started = try t.engine.spawn(SessionSpec(message: "what time @clock @echo"), by: .plugin("rs-fixture"))
        #expect(try t.engine.wait(runId: started.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        let results = try t.engine.transcript(sessionKey: started.sessionKey, by: .operator).filter { $0.role == .tool }
        #expect(results.map(\.isError) == [true, false], "\(results.map(\.content))")
        #expect(results.first?.content.contains("rs-fixture") == true, "\(results.first?.content ?? "")")
        #expect(t.logs.contains("[rs-fixture] error: hook at PINCER_HOOK_BEFORE_TOOL_CALL panicked: the gate will not tell the time"), "\(t.logs.all)")
        t.host.shutdown()
        // Reaching this line is the point: the host outlived the panic, and logged it.
        #expect(t.logs.contains("[rs-fixture] error: shutdown panicked: shutdown panics on purpose"), "\(t.logs.all)")
    }
}
