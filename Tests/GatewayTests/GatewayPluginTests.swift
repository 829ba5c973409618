// gateway.h from the outside: a C plugin's own JSON-RPC methods and HTTP
// routes on a real `pincer serve`, called by real clients — answers now and
// later, errors, timeouts, misuse refused, binary bodies, public and operator
// routes, aliases, streams that end and streams whose client goes away.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PincerCore
import Testing

@Suite(.serialized) struct GatewayPluginTests {
    static let config = #"{"gateway": {"token": "tok", "pluginReplyTimeoutMs": 300, "aliases": {"/.well-known/gw-card.json": "/plugins/gw/card"}}}"#

    func server() async throws -> ServerProcess {
        try await ServerProcess(config: Self.config, arguments: ["--no-store", "--plugins", try FixturePlugins.directory("Tests/Fixtures/c/gateway.c")])
    }

    @Test func aPluginsMethodsAnswerOverBothTransports() async throws {
        let server = try await server()
        let client = try await WebSocketRPC(url: server.url, token: "tok")
        let echoed = try await client.call("gw.echo", ["a": [1, 2]])
        #expect(echoed["params"] == ["a": [1, 2]])
        #expect(echoed["principal"] == "operator")
        #expect(echoed["kind"] == 0)
        #expect(try await client.call("gw.later") == ["later": true], "answered from another thread, later")
        let failed = try await client.response(try await client.send("gw.fail"))
        #expect(failed["error"]?["code"] == -32042)
        #expect(failed["error"]?["data"]?["plugin"] == "gw")
        let silent = try await client.response(try await client.send("gw.silent"))
        #expect(silent["error"]?["code"] == -32007)
        #expect(silent["error"]?["message"]?.stringValue?.contains("gateway.pluginReplyTimeoutMs") == true)
        #expect(try await client.response(try await client.send("gw.badjson"))["error"]?["code"] == -32603)
        #expect(try await client.response(try await client.send("gw.nope"))["error"]?["code"] == -32601)
        let methods = try #require(try await client.call("rpc.methods").arrayValue)
        #expect(methods.contains("gw.echo") && methods.contains("sessions.create"))
        let http = try await post(server.http, #"{"jsonrpc":"2.0","id":1,"method":"gw.echo","params":[true]}"#, token: "tok")
        #expect(http.body?["result"]?["params"] == [true])
        #expect(await server.stop() == 0)
    }

    @Test func misusedRepliesAreRefusedAndChangeNothing() async throws {
        let server = try await server()
        let client = try await WebSocketRPC(url: server.url, token: "tok")
        let codes = try await client.call("gw.misuse")
        #expect(codes["respondOnMethod"] == 1, "PINCER_ERR_INVALID_ARGUMENT: a method's reply is not an HTTP response")
        #expect(codes["forged"] == 4, "PINCER_ERR_NOT_FOUND: a reply handle never handed out")
        #expect(codes["writeOnMethod"] == 1)
        #expect(try await client.call("gw.report")["secondAnswer"] == 4, "a second answer: PINCER_ERR_NOT_FOUND")
        #expect(await server.stop() == 0)
    }

    @Test func routesServeOperatorsAndStrangersAsRegistered() async throws {
        let server = try await server()
        #expect(try await get(server.http + "/plugins/gw/hello").status == 401, "an operator route without the token")
        let hello = try await fetch(server.http + "/plugins/gw/hello?x=1", token: "tok")
        #expect(hello.status == 200)
        #expect(hello.headers["x-gw"].first == "1")
        #expect(String(decoding: hello.body, as: UTF8.self) == "hello operator, you asked for /plugins/gw/hello?x=1")
        // A public route: no token needed, the body comes back byte for byte.
        let bytes: [UInt8] = [0x61, 0x00, 0x62, 0xFF, 0x0A]
        let echoed = try await fetch(server.http + "/plugins/gw/echo", method: .POST, body: bytes, contentType: "application/x-test")
        #expect(echoed.status == 200)
        #expect(echoed.body == bytes)
        #expect(echoed.headers["content-type"].first == "application/x-test")
        #expect(echoed.headers["x-principal"].first == "none")
        #expect(try await fetch(server.http + "/plugins/gw/echo", method: .POST, body: bytes, token: "tok").headers["x-principal"].first == "operator")
        let card = try await fetch(server.http + "/.well-known/gw-card.json")
        #expect(try JSON.parse(String(decoding: card.body, as: UTF8.self))["name"] == "gw", "the operator's alias")
        // Unknown paths: 401 without the token (nothing revealed), 404 or 405 with it.
        #expect(try await get(server.http + "/plugins/gw/nope").status == 401)
        #expect(try await fetch(server.http + "/plugins/gw/nope", token: "tok").status == 404)
        #expect(try await fetch(server.http + "/plugins/gw/echo", method: .PUT, token: "tok").status == 405)
        #expect(try await fetch(server.http + "/plugins/other/hello", token: "tok").status == 404)
        let big = [UInt8](repeating: 1, count: 2 << 20)
        #expect(try await fetch(server.http + "/plugins/gw/echo", method: .POST, body: big).status == 413)
        #expect(await server.stop() == 0)
    }

    @Test func streamsArriveInOrderAndAClientThatLeavesCutsItsStream() async throws {
        let server = try await server()
        let events = try await fetch(server.http + "/plugins/gw/events/anything")
        #expect(events.status == 200)
        #expect(events.headers["content-type"].first == "text/event-stream")
        #expect(String(decoding: events.body, as: UTF8.self) == (0..<5).map { "data: event \($0)\n\n" }.joined())
        // Read a little of an endless stream, then leave.
        var request = HTTPClientRequest(url: server.http + "/plugins/gw/forever")
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        var iterator = response.body.makeAsyncIterator()
        let first = try await iterator.next()
        #expect(first.map { String(buffer: $0) }?.hasPrefix("data: tick") == true)
        _ = consume iterator
        let client = try await WebSocketRPC(url: server.url, token: "tok")
        let deadline = Date().addingTimeInterval(10)
        var cut = 0
        while cut == 0, Date() < deadline {
            cut = try await client.call("gw.report")["streamsCut"]?.wholeNumber ?? 0
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(cut == 1, "the plugin's write answered PINCER_ERR_SHUT_DOWN once the client was gone")
        #expect(await server.stop() == 0)
    }

    @Test func aWithdrawnRouteIsGoneAndReleasedOnce() async throws {
        let server = try await server()
        #expect(try await fetch(server.http + "/plugins/gw/hello", token: "tok").status == 200)
        let client = try await WebSocketRPC(url: server.url, token: "tok")
        #expect(try await client.call("gw.withdraw") == "withdrawn")
        #expect(try await fetch(server.http + "/plugins/gw/hello", token: "tok").status == 404)
        #expect(try await client.call("gw.report")["releases"] == 1)
        let listed = try await runPincer(["plugins", "list", "--plugins", try FixturePlugins.directory("Tests/Fixtures/c/gateway.c")])
        #expect(listed.stdout.contains("method gw.echo"))
        #expect(listed.stdout.contains("route GET /plugins/gw/events/… (public)"))
        #expect(await server.stop() == 0)
    }
}

/// An HTTP request with a method, body and token; the whole response.
func fetch(_ url: String, method: HTTPMethod = .GET, body: [UInt8] = [], contentType: String? = nil, token: String? = nil) async throws
    -> (status: Int, headers: HTTPHeaders, body: [UInt8])
{
    var request = HTTPClientRequest(url: url)
    request.method = method
    if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
    if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let collected = try await response.body.collect(upTo: 64 << 20)
    return (Int(response.status.code), response.headers, Array(buffer: collected))
}

/// The Swift sample session-envelope's own methods, through PincerPluginKit's gateway layer.
@Suite struct SessionEnvelopeMethodTests {
    @Test func anOperatorReadsAndReplacesASessionsEnvelope() async throws {
        let built = ServerProcess.repo.appendingPathComponent("build/plugins/libsession-envelope.so").path
        try #require(FileManager.default.fileExists(atPath: built), "no \(built): scripts/build makes it (scripts/test runs it first)")
        let directory = FixturePlugins.processDirectory + "/envelope"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: directory + "/libsession-envelope.so")
        try FileManager.default.copyItem(atPath: built, toPath: directory + "/libsession-envelope.so")
        let server = try await ServerProcess(arguments: ["--no-store", "--plugins", directory])
        let client = try await WebSocketRPC(url: server.url)
        let created = try await client.call("sessions.create", ["message": "hi", "metadata": ["session-envelope": ["commands": ["date"]]]])
        let key = try #require(created["sessionKey"])
        #expect(try await client.call("session-envelope.get", ["sessionKey": key])["commands"] == ["date"])
        let replaced = try await client.call("session-envelope.update", ["sessionKey": key, "policy": ["commands": ["uname"]]])
        #expect(replaced["commands"] == ["uname"])
        #expect(try await client.call("session-envelope.get", ["sessionKey": key])["commands"] == ["uname"])
        let malformed = try await client.response(try await client.send("session-envelope.update", ["sessionKey": key, "policy": ["bogus": 1]]))
        #expect(malformed["error"]?["code"] == -32602)
        #expect(malformed["error"]?["message"]?.stringValue?.contains("malformed policy") == true)
        #expect(try await client.call("session-envelope.get", ["sessionKey": key])["commands"] == ["uname"], "a malformed policy changes nothing")
        let unknown = try await client.response(try await client.send("session-envelope.get", ["sessionKey": "operator:nope"]))
        #expect(unknown["error"]?["code"] == -32004)
        #expect(await server.stop() == 0)
    }
}
