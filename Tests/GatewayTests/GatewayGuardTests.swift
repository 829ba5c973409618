// What guards the gateway: the operator's token before any method runs, the
// loopback rule without one, and a bound on everything a client can make the
// server hold (body, frame, requests in flight, outbound queue, clients) —
// each refusal a clear error, nothing else affected.

import Foundation
import PincerCore
import Testing

@Suite(.serialized) struct GatewayGuardTests {
    @Test func withATokenEveryPathButHealthzNeedsIt() async throws {
        let server = try await ServerProcess(config: #"{"gateway": {"tokenEnv": "TEST_GATEWAY_TOKEN"}}"#,
                                       environment: ["TEST_GATEWAY_TOKEN": "open-sesame"])
        let missing = try await post(server.http, #"{"jsonrpc":"2.0","id":1,"method":"status"}"#)
        #expect(missing.status == 401)
        #expect(missing.body?["error"]?["code"] == -32005)
        #expect(missing.body?["error"]?["message"]?.stringValue?.contains("Authorization: Bearer") == true)
        let wrong = try await post(server.http, #"{"jsonrpc":"2.0","id":1,"method":"status"}"#, token: "guess")
        #expect(wrong.status == 401)
        #expect(try await post(server.http, #"{"jsonrpc":"2.0","id":1,"method":"status"}"#, token: "open-sesame").status == 200)
        #expect(try await get(server.http + "/healthz") == (200, "ok\n"))
        #expect(try await get(server.http + "/metrics").status == 401)
        let metrics = try await fetch(server.http + "/metrics", token: "open-sesame")
        #expect(metrics.status == 200)
        #expect(String(decoding: metrics.body, as: UTF8.self).contains("pincer_runs_total{status=\"completed\"}"))
        await #expect(throws: (any Error).self) { _ = try await WebSocketRPC(url: server.url) }
        await #expect(throws: (any Error).self) { _ = try await WebSocketRPC(url: server.url, token: "guess") }
        let authorized = try await WebSocketRPC(url: server.url, token: "open-sesame")
        #expect(try await authorized.call("health")["status"] == "ok")
        let refused = try await runPincer(["call", "--url", server.url, "status"])
        #expect(refused.status == 1)
        #expect(try await runPincer(["call", "--url", server.url, "status"], environment: ["PINCER_GATEWAY_TOKEN": "open-sesame"]).status == 0)
        #expect(await server.stop() == 0)
    }

    @Test func withoutATokenOnlyLoopbackIsServed() async throws {
        let refused = try await runPincer(["serve", "--no-store", "--listen", "0.0.0.0:0"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not a loopback address, and no token is set"))
        let path = NSTemporaryDirectory() + "pincer-gateway-env-\(UUID().uuidString).json"
        try #"{"gateway": {"tokenEnv": "PINCER_TEST_UNSET_VARIABLE"}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let noVariable = try await runPincer(["serve", "--no-store", "--config", path, "--listen", "127.0.0.1:0"])
        #expect(noVariable.status == 1)
        #expect(noVariable.stderr.contains("gateway.tokenEnv names the environment variable PINCER_TEST_UNSET_VARIABLE"))
    }

    @Test func oversizedBodiesAndFramesAreRefusedAndOthersGoOn() async throws {
        let server = try await ServerProcess(config: #"{"gateway": {"limits": {"maxRequestBytes": 4096, "maxFrameBytes": 4096}}}"#)
        let bystander = try await WebSocketRPC(url: server.url)
        let big = #"{"jsonrpc":"2.0","id":1,"method":"sessions.create","params":{"message":"\#(String(repeating: "x", count: 8000))"}}"#
        let body = try await post(server.http, big)
        #expect(body.status == 413)
        #expect(body.body?["error"]?["message"]?.stringValue?.contains("gateway.limits.maxRequestBytes") == true)
        let sender = try await WebSocketRPC(url: server.url)
        try await sender.sendText(big)
        #expect(await sender.waitUntilClosed(seconds: 10), "a frame over gateway.limits.maxFrameBytes closes the connection")
        #expect(try await bystander.call("status")["host"] == "pincer")
        #expect(await server.stop() == 0)
    }

    @Test func requestsInFlightPerClientAreBounded() async throws {
        let server = try await ServerProcess(config: #"{"gateway": {"limits": {"maxInFlightPerClient": 2}}}"#)
        let client = try await WebSocketRPC(url: server.url)
        let created = try await client.call("sessions.create", ["message": #"@sleep{"ms":1500}"#])
        let runId = try #require(created["runId"])
        let waits = [try await client.send("runs.wait", ["runId": runId]), try await client.send("runs.wait", ["runId": runId])]
        let third = try await client.response(try await client.send("status"))
        #expect(third["error"]?["code"] == -32006)
        #expect(third["error"]?["message"]?.stringValue?.contains("gateway.limits.maxInFlightPerClient") == true)
        for id in waits { #expect(try await client.response(id)["result"]?["status"] == "completed") }
        #expect(try await client.call("status")["host"] == "pincer", "answered once the others finished")
        #expect(await server.stop() == 0)
    }

    @Test func aClientThatNeverReadsIsDroppedAndOthersAreServed() async throws {
        let server = try await ServerProcess(config: #"{"gateway": {"limits": {"maxOutboundQueue": 8, "maxInFlightPerClient": 100000}}}"#)
        let bystander = try await WebSocketRPC(url: server.url)
        // A raw socket: upgrades, then writes requests without ever reading an answer.
        let socket = try RawWebSocket(port: server.port)
        let request = #"{"jsonrpc":"2.0","id":1,"method":"models.list"}"#
        var sent = 0
        while sent < 50_000, (try? socket.sendText(request)) != nil { sent += 1 }
        #expect(try await bystander.call("status")["host"] == "pincer")
        let deadline = Date().addingTimeInterval(20)
        while !server.stderr.contains("gateway.limits.maxOutboundQueue"), Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(server.stderr.contains("did not read its messages: 8 were waiting (gateway.limits.maxOutboundQueue)"))
        #expect(try await bystander.call("health")["clients"]?.arrayValue?.count == 1)
        close(socket.fd)
        #expect(await server.stop() == 0)
    }

    @Test func webSocketClientsAreBounded() async throws {
        let server = try await ServerProcess(config: #"{"gateway": {"limits": {"maxWebSocketClients": 2}}}"#)
        let first = try await WebSocketRPC(url: server.url), second = try await WebSocketRPC(url: server.url)
        await #expect(throws: (any Error).self) { _ = try await WebSocketRPC(url: server.url) }
        await second.close()
        try await Task.sleep(for: .milliseconds(100))
        let third = try await WebSocketRPC(url: server.url)
        #expect(try await third.call("health")["clients"]?.arrayValue?.count == 2)
        _ = first
        #expect(await server.stop() == 0)
    }
}

/// A WebSocket client on a bare socket that never reads: it plays the slow reader.
struct RawWebSocket {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RawError.failed("connect") }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        try write(Array("GET /rpc HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8))
        var response = [UInt8](repeating: 0, count: 512)
        guard read(fd, &response, response.count) > 0, String(decoding: response, as: UTF8.self).contains(" 101 ") else {
            throw RawError.failed("upgrade")
        }
    }

    enum RawError: Error { case failed(String) }

    /// One masked text frame (clients must mask).
    func sendText(_ text: String) throws {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        if payload.count < 126 { frame.append(0x80 | UInt8(payload.count)) } else {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        }
        let mask: [UInt8] = [1, 2, 3, 4]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try write(frame)
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw RawError.failed("send") }
            offset += n
        }
    }
}
