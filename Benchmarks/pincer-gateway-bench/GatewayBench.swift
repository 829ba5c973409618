// pincer-gateway-bench: the gateway's figures, each against a baseline measured
// in the same run.
//
//   JSON-RPC status over WebSocket, 1 and 64 clients (each sends, waits for the answer,
//   sends again): requests per second and p50 / p99, vs a bare Hummingbird WebSocket
//   echo route in the same process, with the same clients (goal: >= 0.7x the echo's rate)
//   A2A SendMessage through the Rust a2a-bridge on local/instant, one after another:
//   p50 / p99, vs the same session work through the operator's sessions.create + runs.wait
//   memory per idle WebSocket client: the RSS of that `pincer serve` process before and after
//   200 clients connect and stay idle, divided by 200
//
// Run it built for release: scripts/bench (or swift run -c release pincer-gateway-bench [--quick]).

import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdWebSocket
import HummingbirdWSClient
import Logging
import PincerCore
import PincerGateway
import PincerHost
import Synchronization

@main
enum GatewayBench {
    static func progress(_ line: String) { FileHandle.standardError.write(Data("bench: \(line)\n".utf8)) }

    /// `clients` connections, each sending `request` and waiting for the answer, again and again
    /// for `seconds`: requests per second and the latencies (ms).
    static func drive(url: String, request: String, clients: Int, seconds: Double, logger quiet: Logger) async throws -> (perSecond: Double, latenciesMs: [Double]) {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let latencies = Shared<[Double]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    try await WebSocketClient.connect(url: url, logger: quiet) { inbound, outbound, _ in
                        var mine: [Double] = []
                        var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                        while ContinuousClock.now < deadline {
                            let started = ContinuousClock.now
                            try await outbound.write(.text(request))
                            guard try await iterator.next() != nil else { break }
                            let elapsed = ContinuousClock.now - started
                            mine.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                        }
                        latencies.value.withLock { $0 += mine }
                    }
                }
            }
            try await group.waitForAll()
        }
        let all = latencies.value.withLock { $0 }.sorted()
        return (Double(all.count) / seconds, all)
    }

    /// `pincer serve` with the a2a-bridge on local/instant, on a free port the card names.
    static func startServer(_ pincer: String, bridge: String) throws -> (Process, Int) {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) == 0 && getsockname(probe, $0, &length) == 0 } }
        close(probe)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let directory = NSTemporaryDirectory() + "pincer-gateway-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory + "/plugins", withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: directory + "/plugins/liba2a_bridge.so")
        try FileManager.default.copyItem(atPath: bridge, toPath: directory + "/plugins/liba2a_bridge.so")
        try """
            {"engine": {"defaultModel": "local/instant"},
             "guards": {"maxSpawnsPerMinute": 65535, "maxConcurrentSpawns": 64},
             "gateway": {"limits": {"maxWebSocketClients": 1024, "maxConnections": 1024}},
             "plugins": {"entries": {"a2a-bridge": {"config": {"publicUrl": "http://127.0.0.1:\(port)",
                "rateLimit": {"stranger": {"max": 65535, "windowMs": 1}}, "maxTasks": 100}}}}}
            """.write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: pincer)
        server.arguments = ["serve", "--no-store", "--listen", "127.0.0.1:\(port)", "--plugins", directory + "/plugins", "--config", directory + "/config.json"]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        var first = ""
        while !first.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            first += String(decoding: chunk, as: UTF8.self)
        }
        return (server, port)
    }

    /// A2A SendMessage requests to the bridge, one after another, as a stranger: latencies (ms), sorted.
    static func sendMessages(port: Int, count: Int) async throws -> [Double] {
        var latencies: [Double] = []
        for i in 0..<count {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/plugins/a2a-bridge/a2a")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "A2A-Version", value: "1.0")
            request.body = .bytes(ByteBuffer(string: #"{"jsonrpc":"2.0","id":\#(i),"method":"SendMessage","params":{"message":{"messageId":"m\#(i)","role":"ROLE_USER","parts":[{"text":"hello"}]}}}"#))
            let started = ContinuousClock.now
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            latencies.append(milliseconds(ContinuousClock.now - started))
            guard response.status == .ok, String(buffer: body).contains("TASK_STATE_COMPLETED") else {
                throw BenchFailure(description: "SendMessage answered \(response.status): \(String(buffer: body))")
            }
        }
        return latencies.sorted()
    }

    /// The same work through the operator's methods: sessions.create, then runs.wait, over one WebSocket.
    static func createAndWait(port: Int, count: Int, logger quiet: Logger) async throws -> [Double] {
        let latencies = Shared<[Double]>([])
        try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/rpc", logger: quiet) { inbound, outbound, _ in
            var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            var mine: [Double] = []
            for i in 0..<count {
                let started = ContinuousClock.now
                try await outbound.write(.text(#"{"jsonrpc":"2.0","id":"c\#(i)","method":"sessions.create","params":{"message":"hello"}}"#))
                guard case .text(let created)? = try await iterator.next(), let runId = try? JSON.parse(created)["result"]?["runId"]?.stringValue else {
                    throw BenchFailure(description: "sessions.create gave no run id")
                }
                try await outbound.write(.text(#"{"jsonrpc":"2.0","id":"w\#(i)","method":"runs.wait","params":{"runId":"\#(runId)"}}"#))
                _ = try await iterator.next()
                mine.append(milliseconds(ContinuousClock.now - started))
            }
            latencies.value.withLock { $0 = mine }
        }
        return latencies.value.withLock { $0 }.sorted()
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    struct BenchFailure: Error, CustomStringConvertible { let description: String }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    /// The resident set of process `pid`, in KiB.
    static func rssKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    static func main() async throws {
        let quick = CommandLine.arguments.contains("--quick")
        let seconds: Double = quick ? 0.5 : 3

        // MARK: - The two servers, in this process

        let engine = try OperatorConfig().makeEngine()
        let host = PluginHost(engine: engine, hostLog: { _ in })
        var settings = GatewaySettings()
        (settings.listenHost, settings.listenPort) = ("127.0.0.1", 0)
        settings.maxWebSocketClients = 1024
        settings.maxConnections = 1024
        let ports = Shared<[String: Int]>([:])
        let quiet = { var logger = Logger(label: "bench"); logger.logLevel = .critical; return logger }()
        let gateway = GatewayServer.application(methods: OperatorMethods(host: host, clients: ClientRegistry()), live: LiveSettings(settings, token: nil),
                                                metrics: GatewayHost.metrics, logger: quiet) { address in ports.value.withLock { $0["gateway"] = address?.port } }

        let echoRouter = Router(context: BasicWebSocketRequestContext.self)
        echoRouter.ws("/echo") { inbound, outbound, _ in
            for try await message in inbound.messages(maxSize: 1 << 20) {
                if case .text(let text) = message { try await outbound.write(.text(text)) }
            }
        }
        let echo = Application(router: Router(context: BasicWebSocketRequestContext.self), server: .http1WebSocketUpgrade(webSocketRouter: echoRouter),
                               configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                               onServerRunning: { channel in ports.value.withLock { $0["echo"] = channel.localAddress?.port } }, logger: quiet)

        let servers = Task {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await gateway.runService() }
                group.addTask { try await echo.runService() }
            }
        }
        while ports.value.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(10)) }
        let (gatewayPort, echoPort) = ports.value.withLock { ($0["gateway"]!, $0["echo"]!) }

        // MARK: - Clients

        let status = #"{"jsonrpc":"2.0","id":1,"method":"status"}"#
        var lines: [String] = []
        for clients in [1, 64] {
            progress("status over WebSocket vs echo, \(clients) client(s), \(seconds) s each")
            let base = try await drive(url: "ws://127.0.0.1:\(echoPort)/echo", request: status, clients: clients, seconds: seconds, logger: quiet)
            let now = try await drive(url: "ws://127.0.0.1:\(gatewayPort)/rpc", request: status, clients: clients, seconds: seconds, logger: quiet)
            let ratio = now.perSecond / base.perSecond
            lines.append(String(format: "JSON-RPC status, %2d client(s)     %9.0f req/s  p50 %6.3f ms  p99 %6.3f ms | echo %9.0f req/s  p50 %6.3f ms  p99 %6.3f ms | ratio %.2fx (goal >= 0.7x) %@",
                                clients, now.perSecond, percentile(now.latenciesMs, 0.5), percentile(now.latenciesMs, 0.99),
                                base.perSecond, percentile(base.latenciesMs, 0.5), percentile(base.latenciesMs, 0.99), ratio,
                                ratio >= 0.7 ? "met" : "NOT met"))
        }
        servers.cancel()

        // MARK: - In a pincer serve process of its own: A2A SendMessage, memory per idle client

        let pincer = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pincer-server").path
        let bridge = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("build/plugins/liba2a_bridge.so").path
        if FileManager.default.isExecutableFile(atPath: pincer), FileManager.default.fileExists(atPath: bridge) {
            let (server, port) = try startServer(pincer, bridge: bridge)
            defer {
                server.terminate()
                server.waitUntilExit()
            }
            let count = quick ? 20 : 300
            progress("A2A SendMessage on local/instant: \(count) in a row, vs the operator's sessions.create + runs.wait over WebSocket")
            let a2a = try await sendMessages(port: port, count: count)
            let operatorPath = try await createAndWait(port: port, count: count, logger: quiet)
            lines.append(String(format: "A2A SendMessage (bridge), 1 client  p50 %6.3f ms  p99 %6.3f ms | sessions.create + runs.wait p50 %6.3f ms  p99 %6.3f ms | ratio of p50s %.2fx",
                                percentile(a2a, 0.5), percentile(a2a, 0.99), percentile(operatorPath, 0.5), percentile(operatorPath, 0.99),
                                percentile(a2a, 0.5) / percentile(operatorPath, 0.5)))

            let idle = quick ? 20 : 200
            progress("memory per idle client: \(idle) idle WebSocket clients")
            let before = rssKiB(server.processIdentifier)
            let connected = Shared<Int>(0)
            let hold = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<idle {
                        group.addTask {
                            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/rpc", logger: quiet) { inbound, _, _ in
                                connected.value.withLock { $0 += 1 }
                                for try await _ in inbound {}
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            while connected.value.withLock({ $0 }) < idle { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(500))
            let after = rssKiB(server.processIdentifier)
            lines.append(String(format: "memory per idle WebSocket client     %.1f KiB (RSS %d KiB before, %d KiB with %d clients)",
                                Double(after - before) / Double(idle), before, after, idle))
            hold.cancel()
        } else {
            lines.append("A2A and memory figures skipped: they need pincer-server beside this program and build/plugins/liba2a_bridge.so (scripts/build)")
        }

        print("pincer-gateway-bench (\(quick ? "quick" : "full") run)")
        for line in lines { print(line) }
        exit(0)
    }
}

/// A value under a lock, shared by reference with the tasks of a run.
final class Shared<T: Sendable>: Sendable {
    let value: Mutex<T>
    init(_ initial: T) { value = Mutex(initial) }
}
