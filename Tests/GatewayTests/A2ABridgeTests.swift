// The Rust a2a-bridge sample on a real `pincer serve`, driven by the official
// A2A SDK's Python client (a2a-sdk 1.3.0, installed into build/venv by
// scripts/python-peers): the card, SendMessage, SendStreamingMessage over SSE,
// GetTask, CancelTask, a friend's calendar tools against a stranger's chat,
// a wrong token, the version header and the stranger's rate limit
// (Tests/A2A/a2a_peer.py says what each check asserts).

import Foundation
import Testing

@Suite(.serialized) struct A2ABridgeTests {
    static let venvPython = ServerProcess.repo.appendingPathComponent("build/venv/bin/python").path

    /// The bridge built with cargo (release, offline), in a plugins directory of its own.
    static func bridgeDirectory() throws -> String {
        let repo = ServerProcess.repo.path
        let directory = FixturePlugins.processDirectory + "/a2a"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let cargo = Process()
        cargo.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cargo.arguments = ["cargo", "build", "--offline", "-j", "1", "--release", "--quiet", "--manifest-path", "\(repo)/SamplePlugins/rust/a2a-bridge/Cargo.toml"]
        cargo.environment = ProcessInfo.processInfo.environment.merging(["CARGO_TARGET_DIR": "\(repo)/build/cargo"]) { $1 }
        try cargo.run()
        cargo.waitUntilExit()
        guard cargo.terminationStatus == 0 else { throw ServerProcess.ServerFailure(description: "cargo build of a2a-bridge failed") }
        let library = "\(directory)/liba2a_bridge.so"
        try? FileManager.default.removeItem(atPath: library)
        try FileManager.default.copyItem(atPath: "\(repo)/build/cargo/release/liba2a_bridge.so", toPath: library)
        return directory
    }

    /// A loopback port free right now (the card must name the port before the server starts).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw ServerProcess.ServerFailure(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func theOfficialA2AClientTalksToTheBridgeAsFriendAndStranger() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.venvPython),
                     "no \(Self.venvPython): run scripts/python-peers (scripts/test does)")
        let port = try Self.freePort()
        let config = """
            {"gateway": {"aliases": {"/.well-known/agent-card.json": "/plugins/a2a-bridge/agent-card"}},
             "engine": {"tokenDelayMs": 1},
             "plugins": {"entries": {"a2a-bridge": {"config": {"publicUrl": "http://127.0.0.1:\(port)",
                "friends": {"alice": "alice-secret-token"},
                "rateLimit": {"friend": {"max": 100, "windowMs": 60000}, "stranger": {"max": 3, "windowMs": 60000}}}}}}}
            """
        let server = try await ServerProcess(config: config, arguments: ["--no-store", "--plugins", try Self.bridgeDirectory(),
                                                                          "--listen", "127.0.0.1:\(port)"])
        let peer = try await runProgram(Self.venvPython, [ServerProcess.repo.appendingPathComponent("Tests/A2A/a2a_peer.py").path,
                                                          "--base", server.http, "--friend-token", "alice-secret-token"])
        #expect(peer.status == 0, "a2a_peer.py:\n\(peer.stdout)\(peer.stderr)\nserver:\n\(server.stderr)")
        let lines = peer.stdout.split(separator: "\n")
        for check in ["card", "send", "stream", "gettask", "cancel", "version", "method", "badtoken", "friend-vs-stranger", "ratelimit"] {
            #expect(lines.contains { $0.hasPrefix("ok \(check):") }, "no 'ok \(check):' in\n\(peer.stdout)")
        }
        #expect(await server.stop() == 0)
    }
}
