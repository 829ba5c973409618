// The C++ sample, auto-detail, built from its source and loaded into the real
// host: it sizes its session's system prompt to the context window of the
// model the session will use — the local models' declared windows, or one an
// operator gives a provider's model — and goes on when a request is refused or
// the catalog cannot be read.

import Foundation
import PincerCore
@testable import PincerHost
import Testing

@Suite struct AutoDetailTests {
    /// Loads the sample under `config`, starts it, and returns the system prompt of the session it spawned.
    private func systemPrompt(_ config: OperatorConfig = OperatorConfig()) throws -> (prompt: String?, logs: LogRecorder, host: TestHost) {
        let t = try TestHost(config: config)
        let record = try t.load("SamplePlugins/cpp/auto_detail.cpp", as: "libauto-detail.so")
        #expect(record.state == .loaded, "\(record.reason ?? "")")
        #expect(record.language == "c++")
        t.host.start()
        let deadline = Date().addingTimeInterval(10)
        var prompt: String?
        while prompt == nil, Date() < deadline {
            let key = t.engine.sessionSummaries.first { $0.owner == "plugin auto-detail" }?.key
            if let key, let json = try? JSON.parse(t.engine.sessionJSON(sessionKey: key, for: .operator)) {
                prompt = json["systemPrompt"]?.stringValue
            } else if t.logs.contains("spawn refused") {
                break
            } else {
                usleep(10_000)
            }
        }
        return (prompt, t.logs, t)
    }

    @Test func theDefaultModelsLargeWindowGetsThoroughAnswers() throws {
        let (prompt, logs, t) = try systemPrompt()
        defer { t.close() }
        #expect(prompt?.hasPrefix("Detail level: thorough.") == true, "\(prompt ?? "no session")")
        #expect(logs.contains("[auto-detail] info: detail level thorough (local/scripted, context window 131072 tokens)"))
        // The allowlist is read-only: its mutating request was refused, and it went on.
        #expect(logs.contains("[auto-detail] info: a mutating gateway request answered 5: gateway method 'sessions.delete' is not available to plugins"))
    }

    @Test func aSmallWindowGetsBriefAnswers() throws {
        var config = OperatorConfig()
        config.engine.defaultModel = "local/instant"
        let (prompt, _, t) = try systemPrompt(config)
        defer { t.close() }
        #expect(prompt?.hasPrefix("Detail level: brief.") == true, "\(prompt ?? "no session")")
    }

    @Test func anOperatorsContextWindowForAProviderModelDecides() throws {
        let config = try OperatorConfig.parse("""
            {"providers": [{"name": "lab", "baseURL": "http://127.0.0.1:9/v1", "models": [{"name": "mid", "contextWindow": 32768}]}],
             "plugins": {"entries": {"auto-detail": {"allowModelOverride": true, "config": {"model": "lab/mid"}}}}}
            """, source: "test")
        let (prompt, logs, t) = try systemPrompt(config)
        defer { t.close() }
        #expect(prompt?.hasPrefix("Detail level: standard.") == true, "\(prompt ?? "no session")")
        #expect(logs.contains("detail level standard (lab/mid, context window 32768 tokens)"))
    }

    @Test func withoutTheCatalogItSizesForAnUnknownWindow() throws {
        let config = try OperatorConfig.parse("""
            {"plugins": {"entries": {"auto-detail": {"capabilities": ["sessions.spawn", "sessions.read", "sessions.prompt", "tools.register"]}}}}
            """, source: "test")
        let (prompt, logs, t) = try systemPrompt(config)
        defer { t.close() }
        #expect(prompt?.hasPrefix("Detail level: standard. the model's window is unknown") == true, "\(prompt ?? "no session")")
        #expect(logs.contains("no model catalog (plugin 'auto-detail' lacks the capability 'host.read'"))
    }

    @Test func theCppHelpersTurnAThrowIntoAnErrorAndCopyTextForTheHost() throws {
        let t = try TestHost(config: try OperatorConfig.parse(#"{"plugins": {"entries": {"fx-cpp": {"config": {"greeting": "hi"}}}}}"#, source: "test"))
        defer { t.close() }
        let record = try t.load("Tests/Fixtures/cpp/helpers.cpp", as: "helpers.so")
        #expect(record.state == .loaded, "\(record.reason ?? "")")
        let started = try t.engine.spawn(SessionSpec(message: "@fx-cpp.throws @fx-cpp.greets"), by: .operator)
        let run = try t.engine.wait(runId: started.runId, timeoutMs: 10_000, by: .operator)
        #expect(run.status == .completed)
        let results = try t.engine.transcript(sessionKey: started.sessionKey, by: .operator).filter { $0.role == .tool }.map(\.content)
        #expect(results == ["tool 'fx-cpp.throws' failed: plugin 'fx-cpp' reported PINCER_ERR_PLUGIN", "hi from C++"])
        #expect(t.logs.contains("[fx-cpp] error: fx-cpp.throws threw: boom"))
    }
}
