// `pincer serve`'s operator methods, through a real server process: the same
// table over HTTP POST and WebSocket, errors as JSON-RPC errors with the
// host's codes, run streams in order, and health with per-client heartbeats.

import Foundation
import PincerCore
import Testing

@Suite(.serialized) struct GatewayMethodTests {
    @Test func aSessionGoesThroughItsWholeLifeOverTheWebSocket() async throws {
        let server = try await ServerProcess()
        let client = try await WebSocketRPC(url: server.url)
        let created = try await client.call("sessions.create", ["message": "hello @clock", "label": "life"])
        let key = try #require(created["sessionKey"]?.stringValue), runId = try #require(created["runId"]?.stringValue)
        let ended = try await client.call("runs.wait", ["runId": .string(runId), "timeoutMs": 20_000])
        #expect(ended["status"] == "completed")
        #expect(ended["finalText"]?.stringValue?.contains("You said: hello") == true)

        let followUp = try await client.call("sessions.prompt", ["key": .string(key), "text": "again"])
        let second = try await client.call("runs.wait", ["runId": try #require(followUp["runId"]), "timeoutMs": 20_000])
        #expect(second["status"] == "completed")
        let messages = try #require(try await client.call("sessions.messages", ["key": .string(key)])["messages"]?.arrayValue)
        let contents = messages.compactMap { $0["content"]?.stringValue }
        #expect(contents.contains("again"))
        let session = try await client.call("sessions.get", ["key": .string(key)])
        #expect(session["label"] == "life")
        #expect(session["runs"]?["total"] == 2)
        let listed = try #require(try await client.call("sessions.list").arrayValue)
        #expect(listed.contains { $0["key"]?.stringValue == key })
        #expect(try await client.call("sessions.steer", ["key": .string(key), "text": "x"])["outcome"] == "noActiveRun")

        _ = try await client.call("sessions.delete", ["key": .string(key)])
        let gone = try await client.response(try await client.send("sessions.get", ["key": .string(key)]))
        #expect(gone["error"]?["code"] == -32004)
        #expect(gone["error"]?["data"]?["result"] == "PINCER_ERR_NOT_FOUND")
        await client.close()
        #expect(await server.stop() == 0, "\(server.stderr)")
    }

    @Test func theSameTableAnswersOverHTTPWithBatchesAndProtocolErrors() async throws {
        let server = try await ServerProcess()
        let status = try await post(server.http, #"{"jsonrpc":"2.0","id":7,"method":"status"}"#)
        #expect(status.status == 200)
        #expect(status.body?["id"] == 7)
        #expect(status.body?["result"]?["version"]?.stringValue?.isEmpty == false)
        #expect(try await post(server.http, #"{"jsonrpc":"2.0","id":1,"method":"models.list"}"#).body?["result"] != nil)
        #expect(try await post(server.http, #"{"jsonrpc":"2.0","id":1,"method":"plugins.list"}"#).body?["result"] == .array([]))

        let malformed = try await post(server.http, #"{"jsonrpc":"2.0","id":1,"method":"#)
        #expect(malformed.body?["error"]?["code"] == -32700)
        let unknown = try await post(server.http, #"{"jsonrpc":"2.0","id":"u","method":"sessions.explode"}"#)
        #expect(unknown.body?["error"]?["code"] == -32601)
        #expect(unknown.body?["id"] == "u")
        let badParams = try await post(server.http, #"{"jsonrpc":"2.0","id":2,"method":"sessions.create","params":{"message":5}}"#)
        #expect(badParams.body?["error"]?["code"] == -32001)
        #expect(badParams.body?["error"]?["message"]?.stringValue?.contains("params.message") == true)
        let notification = try await post(server.http, #"{"jsonrpc":"2.0","method":"status"}"#)
        #expect(notification.status == 204)

        let batch = try await post(server.http, #"[{"jsonrpc":"2.0","id":1,"method":"health"},{"jsonrpc":"2.0","method":"status"},{"id":3},{"jsonrpc":"2.0","id":4,"method":"rpc.methods"}]"#)
        let answers = try #require(batch.body?.arrayValue)
        #expect(answers.count == 3, "a notification in a batch gets no answer: \(answers)")
        #expect(answers.map { $0["id"] } == [1, 3, 4])
        #expect(answers[1]["error"]?["code"] == -32600)
        let subscribe = try await post(server.http, #"{"jsonrpc":"2.0","id":1,"method":"runs.subscribe","params":{"runId":"x"}}"#)
        #expect(subscribe.body?["error"]?["code"] != nil)
        #expect(await server.stop() == 0)
    }

    @Test func aSubscriptionStreamsEveryEventInOrderThenTheEnd() async throws {
        let server = try await ServerProcess()
        let client = try await WebSocketRPC(url: server.url)
        let created = try await client.call("sessions.create", ["message": #"@sleep{"ms":300} @clock @echo{"text":"hi"}"#])
        let runId = try #require(created["runId"]?.stringValue)
        #expect(try await client.call("runs.subscribe", ["runId": .string(runId)])["subscribed"] == .string(runId))
        let end = try await client.waitFor { $0["method"] == "run.end" }
        let events = client.messages.filter { $0["method"] == "run.event" }.compactMap { $0["params"] }
        #expect(events.compactMap { $0["seq"]?.wholeNumber } == Array(0..<events.count), "sequence numbers from 0, no gap")
        #expect(end["params"]?["events"]?.wholeNumber == events.count)
        #expect(end["params"]?["status"] == "completed")
        let kinds = events.compactMap { $0["event"]?["kind"]?.stringValue }
        #expect(kinds.filter { $0 == "tool_call" }.count == 3)
        #expect(kinds.last == "finished")
        // A late subscriber gets the whole record, then the end.
        let late = try await WebSocketRPC(url: server.url)
        _ = try await late.call("runs.subscribe", ["runId": .string(runId)])
        _ = try await late.waitFor { $0["method"] == "run.end" }
        #expect(late.messages.filter { $0["method"] == "run.event" }.count == events.count)
        let unknown = try await client.response(try await client.send("runs.subscribe", ["runId": "run-nope"]))
        #expect(unknown["error"]?["code"] == -32004)
        #expect(await server.stop() == 0)
    }

    @Test func healthListsEachClientWithItsHeartbeatRoundTrip() async throws {
        let server = try await ServerProcess(config: #"{"gateway": {"heartbeat": {"intervalMs": 100, "maxMissed": 3}}}"#)
        let answering = try await WebSocketRPC(url: server.url)
        let silent = try await WebSocketRPC(url: server.url, answerHeartbeats: false)
        try await Task.sleep(for: .milliseconds(250))
        let health = try await answering.call("health")
        let clients = try #require(health["clients"]?.arrayValue)
        #expect(clients.count == 2)
        let measured = try #require(clients.first { $0["rttMs"] != .null })
        #expect((measured["rttMs"]?.numberValue ?? -1) >= 0)
        #expect(measured["lastHeartbeatAt"]?.wholeNumber != nil)
        #expect(measured["connectedAt"]?.wholeNumber != nil)
        #expect(clients.contains { $0["rttMs"] == .null && ($0["missedHeartbeats"]?.wholeNumber ?? 0) >= 1 })
        // Three heartbeats unanswered: the silent client is closed, the other one stays.
        #expect(await silent.waitUntilClosed(seconds: 5))
        #expect(try await answering.call("health")["clients"]?.arrayValue?.count == 1)
        #expect(await server.stop() == 0)
        #expect(server.stderr.contains("left 3 heartbeats in a row unanswered (gateway.heartbeat.maxMissed)"))
    }

    @Test func pincerCallPrintsResultsAndExitsByOutcome() async throws {
        let server = try await ServerProcess()
        let created = try await runPincer(["call", "--url", server.url, "sessions.create", #"{"message": "hi"}"#])
        #expect(created.status == 0, "\(created.stderr)")
        let runId = try #require(try JSON.parse(created.stdout)["runId"]?.stringValue)
        let subscribed = try await runPincer(["call", "--url", server.url, "runs.subscribe", #"{"runId": "\#(runId)"}"#])
        #expect(subscribed.status == 0)
        #expect(subscribed.stdout.contains(#""status":"completed""#))
        let unknown = try await runPincer(["call", "--url", server.url, "sessions.get", #"{"key": "nope"}"#])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.hasPrefix("pincer: -32004 no session with key 'nope'"))
        let badParams = try await runPincer(["call", "--url", server.url, "status", "not json"])
        #expect(badParams.status == 1)
        #expect(await server.stop() == 0)
        let down = try await runPincer(["call", "--url", server.url, "status"])
        #expect(down.status == 1)
        #expect(down.stderr.hasPrefix("pincer: \(server.url)"))
    }
}
