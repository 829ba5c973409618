// The OpenAI-compatible provider against a loopback HTTP server speaking the
// same protocol: recorded streams (Tests/Fixtures/openai) drive a run with a
// tool call, the requests the host sent are compared with the recorded wire
// format, and every way the exchange can fail becomes a clear run error.

import Foundation
import PincerCore
@testable import PincerOpenAI
import Testing

@Suite struct OpenAIProviderTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/openai")

    static func recorded(_ name: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    /// An engine whose catalog has "loop/test-model" served by `server`, and the tool calc.add.
    private func engine(_ server: LoopbackHTTPServer, timeoutSeconds: Double = 10, apiKeyEnv: String? = nil, maxRetries: Int = 0) throws -> Engine {
        var config = EngineConfig()
        config.tokenDelayMs = 0
        let provider = try OpenAICompatibleProvider(.init(name: "loop", baseURL: server.baseURL, models: ["test-model"],
                                                          apiKeyEnv: apiKeyEnv, timeoutSeconds: timeoutSeconds, maxRetries: maxRetries))
        let tools = ToolRegistry()
        try tools.register(ToolDefinition(name: "calc.add", description: "Adds a and b.",
                                          parameters: ["type": "object", "properties": ["a": ["type": "number"], "b": ["type": "number"]]]) { args, _ in
            String((args["a"]?.wholeNumber ?? 0) + (args["b"]?.wholeNumber ?? 0))
        })
        // The engine owns the provider: its shutdown() shuts the provider's HTTP client down.
        return try Engine(config: config, providers: [LocalModel(tokenDelayMs: 0), provider], tools: tools)
    }

    private func runToEnd(_ e: Engine, _ message: String = "What is 2 + 2?") throws -> (RunSnapshot, String) {
        let started = try e.spawn(SessionSpec(message: message, systemPrompt: "You are terse.", model: "loop/test-model"), by: .operator)
        return (try e.wait(runId: started.runId, timeoutMs: 20_000, by: .operator), started.sessionKey)
    }

    @Test func aStreamedToolCallRunsAndTheTranscriptGoesBackOnTheWire() throws {
        setenv("PINCER_TEST_LOOPBACK_KEY", "sk-loopback-123", 1)
        let server = try LoopbackHTTPServer(replies: [
            .init(body: try Self.recorded("tool_call.sse")), .init(body: try Self.recorded("final_answer.sse")),
        ])
        defer { server.stop() }
        let e = try engine(server, apiKeyEnv: "PINCER_TEST_LOOPBACK_KEY")
        defer { e.shutdown() }
        let (run, key) = try runToEnd(e)
        #expect(run.status == .completed, "\(run.error ?? "")")
        #expect(run.finalText == "2 + 2 = 4.")

        let transcript = try e.transcript(sessionKey: key, by: .operator)
        #expect(transcript.map(\.role) == [.system, .user, .assistant, .tool, .assistant])
        #expect(transcript[2].content == "Let me check.")
        #expect(transcript[2].toolCalls == [ToolCall(id: "call_Qx7", name: "calc.add", arguments: ["a": 2, "b": 2])])
        #expect(transcript[3].content == "4" && !transcript[3].isError)

        let requests = server.requests
        try #require(requests.count == 2)
        for request in requests {
            #expect(request.method == "POST" && request.path == "/v1/chat/completions")
            #expect(request.headers["authorization"] == "Bearer sk-loopback-123")
            #expect(request.headers["content-type"] == "application/json")
        }
        let first = try JSON.parse(requests[0].body), second = try JSON.parse(requests[1].body)
        #expect(first["model"] == "test-model" && first["stream"] == .bool(true))
        // JSON objects are unordered: the provider sends its keys sorted, the fixtures keep the order people read.
        #expect(first["messages"]?.sortedKeys == JSON.array([["role": "system", "content": "You are terse."], ["role": "user", "content": "What is 2 + 2?"]]).sortedKeys)
        // Tools travel under names the wire allows, with their descriptions and schemas.
        let offered = try #require(first["tools"]?.arrayValue)
        let calc = try #require(offered.first { $0["function"]?["name"] == "calc_add" })
        #expect(calc["type"] == "function" && calc["function"]?["description"] == "Adds a and b.")
        #expect(calc["function"]?["parameters"]?["properties"]?["a"] == ["type": "number"])
        #expect(second["messages"]?.sortedKeys == (try JSON.parse(try Self.recorded("second_request_messages.json"))).sortedKeys)
    }

    @Test func onlyToolsThePolicyAllowsAreOffered() throws {
        let server = try LoopbackHTTPServer(replies: [.init(body: try Self.recorded("final_answer.sse"))])
        defer { server.stop() }
        let e = try engine(server)
        defer { e.shutdown() }
        let started = try e.spawn(SessionSpec(message: "hi", toolPolicy: ToolPolicy(allow: ["calc.*", "echo"]), model: "loop/test-model"),
                                  by: .operator)
        #expect(try e.wait(runId: started.runId, timeoutMs: 20_000, by: .operator).status == .completed)
        let offered = try JSON.parse(try #require(server.requests.first).body)["tools"]?.arrayValue?.compactMap { $0["function"]?["name"]?.stringValue }
        #expect(offered == ["calc_add", "echo"])
        #expect(server.requests.first?.headers["authorization"] == nil)
    }

    @Test(arguments: [
        (LoopbackHTTPServer.Reply(status: 401, contentType: "application/json",
                                  body: #"{"error":{"message":"Incorrect API key provided: sk-wrong.","type":"invalid_request_error","code":"invalid_api_key"}}"#),
         "HTTP 401 from http://127.0.0.1:PORT/v1/chat/completions: Incorrect API key provided: sk-wrong."),
        (LoopbackHTTPServer.Reply(status: 502, contentType: "text/html", body: "<html>Bad Gateway</html>"),
         "HTTP 502 from http://127.0.0.1:PORT/v1/chat/completions: <html>Bad Gateway</html>"),
        (LoopbackHTTPServer.Reply(body: "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {not json\n\n"),
         "malformed stream from http://127.0.0.1:PORT/v1/chat/completions: an event is not JSON"),
        (LoopbackHTTPServer.Reply(body: "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"),
         "the stream from http://127.0.0.1:PORT/v1/chat/completions ended before the model finished"),
        (LoopbackHTTPServer.Reply(body: "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"echo\",\"arguments\":\"{oops\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n"),
         "the arguments of tool call 'echo' are not JSON"),
        (LoopbackHTTPServer.Reply(body: "data: {\"error\":{\"message\":\"The server had an error while processing your request.\"}}\n\n"),
         "the stream carried an error: The server had an error while processing your request."),
    ])
    func failuresBecomeClearRunErrors(reply: LoopbackHTTPServer.Reply, expected: String) throws {
        let server = try LoopbackHTTPServer(replies: [reply])
        defer { server.stop() }
        let e = try engine(server)
        defer { e.shutdown() }
        let (run, _) = try runToEnd(e)
        #expect(run.status == .failed)
        let wanted = "model 'loop/test-model' failed: " + expected.replacingOccurrences(of: "PORT", with: "\(server.port)")
        #expect(run.error?.hasPrefix(wanted) == true, "\(run.error ?? "")")
    }

    @Test func transientFailuresAreRetriedAsTheServerAsks() throws {
        let busy = LoopbackHTTPServer.Reply(status: 429, contentType: "application/json", body: #"{"error":{"message":"Rate limit reached"}}"#,
                                            headers: ["Retry-After": "0"])
        let down = LoopbackHTTPServer.Reply(status: 503, contentType: "text/plain", body: "overloaded", headers: ["Retry-After": "0"])
        let server = try LoopbackHTTPServer(replies: [busy, down, .init(body: try Self.recorded("final_answer.sse"))])
        defer { server.stop() }
        let e = try engine(server, maxRetries: 2)
        defer { e.shutdown() }
        let (run, _) = try runToEnd(e)
        #expect(run.status == .completed && run.finalText == "2 + 2 = 4.", "\(run.error ?? "")")
        #expect(server.requests.count == 3)

        // Retries run out; a client error is never retried.
        let always = try LoopbackHTTPServer(replies: [down])
        defer { always.stop() }
        let e2 = try engine(always, maxRetries: 1)
        defer { e2.shutdown() }
        let (failed, _) = try runToEnd(e2)
        #expect(failed.error == "model 'loop/test-model' failed: HTTP 503 from \(always.baseURL)/chat/completions: overloaded (gave up after 2 attempts; maxRetries of provider 'loop' is 1)")
        #expect(always.requests.count == 2)
        let refused = try LoopbackHTTPServer(replies: [.init(status: 400, contentType: "application/json", body: #"{"error":{"message":"bad"}}"#)])
        defer { refused.stop() }
        let e3 = try engine(refused, maxRetries: 2)
        defer { e3.shutdown() }
        _ = try runToEnd(e3)
        #expect(refused.requests.count == 1)
    }

    @Test func silenceIsATimeoutAndAnUnreachableServerIsNamed() throws {
        let silent = try LoopbackHTTPServer(replies: [.init(body: try Self.recorded("final_answer.sse"), delayMs: 5000)])
        defer { silent.stop() }
        let e = try engine(silent, timeoutSeconds: 1)
        defer { e.shutdown() }
        let (run, _) = try runToEnd(e)
        #expect(run.error == "model 'loop/test-model' failed: \(silent.baseURL)/chat/completions sent nothing for 1 s (timeoutSeconds of provider 'loop')")

        let closed = try LoopbackHTTPServer(replies: [])
        closed.stop()
        let e2 = try engine(closed)
        defer { e2.shutdown() }
        let (refused, _) = try runToEnd(e2)
        #expect(refused.error?.hasPrefix("model 'loop/test-model' failed: cannot reach \(closed.baseURL)/chat/completions: ") == true,
                "\(refused.error ?? "")")
    }

    @Test func aCancelledRunStopsItsRequest() throws {
        let server = try LoopbackHTTPServer(replies: [.init(body: try Self.recorded("final_answer.sse"), delayMs: 10_000)])
        defer { server.stop() }
        let e = try engine(server, timeoutSeconds: 60)
        defer { e.shutdown() }
        let started = try e.spawn(SessionSpec(message: "hi", model: "loop/test-model"), by: .operator)
        usleep(200_000)
        let cancelledAt = Date()
        try e.cancelRun(started.runId, by: .operator)
        let run = try e.wait(runId: started.runId, timeoutMs: 5000, by: .operator)
        #expect(run.status == .cancelled)
        #expect(Date().timeIntervalSince(cancelledAt) < 1)
    }

    @Test func settingsAreCheckedWhenTheHostStarts() throws {
        #expect(throws: EngineError(.invalidArgument, "providers 'x': the environment variable PINCER_TEST_UNSET_KEY (apiKeyEnv) is not set")) {
            try OpenAICompatibleProvider(.init(name: "x", baseURL: "https://example.invalid/v1", models: ["m"], apiKeyEnv: "PINCER_TEST_UNSET_KEY"),
                                         environment: [:])
        }
        #expect(throws: EngineError(.invalidArgument, "providers 'x': baseURL 'ftp://example/v1' is not an http(s) URL")) {
            try OpenAICompatibleProvider(.init(name: "x", baseURL: "ftp://example/v1", models: ["m"]))
        }
    }
}

extension JSON {
    /// The same value with every object's members in key order, for comparing regardless of order.
    var sortedKeys: JSON {
        switch self {
        case .object(let members): return .object(members.map { ($0.0, $0.1.sortedKeys) }.sorted { $0.0 < $1.0 })
        case .array(let elements): return .array(elements.map(\.sortedKeys))
        default: return self
        }
    }
}
