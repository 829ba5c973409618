// pincer-gateway-bench: the gateway's figures, each against a baseline measured
// in the same run.
//
//   JSON-RPC status over WebSocket, 1 and 64 clients (each sends, waits for the answer,
//   sends again): requests per second and p50 / p99, vs a bare Hummingbird WebSocket
//   echo route in the same process, with the same clients (goal: >= 0.7x the echo's rate)
//   memory per idle WebSocket client: the RSS of a `pincer serve` process before and after
//   200 clients connect and stay idle, divided by 200
//
// Run it built for release: scripts/bench (or swift run -c release pincer-gateway-bench [--quick]).

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

        // MARK: - Memory per idle client, in a pincer serve process of its own

        let pincer = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pincer-server").path
        if FileManager.default.isExecutableFile(atPath: pincer) {
            let idle = quick ? 20 : 200
            progress("memory per idle client: pincer serve in a process of its own, \(idle) idle WebSocket clients")
            let server = Process()
            server.executableURL = URL(fileURLWithPath: pincer)
            server.arguments = ["serve", "--no-store", "--listen", "127.0.0.1:0"]
            let out = Pipe()
            server.standardOutput = out
            server.standardError = FileHandle.nullDevice
            try server.run()
            var first = ""
            while !first.contains("\n") { first += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self) }
            let port = first.split(separator: ":").compactMap { Int($0.prefix { $0.isNumber }) }.last ?? 0
            try await Task.sleep(for: .milliseconds(300))
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
            server.terminate()
            server.waitUntilExit()
        } else {
            lines.append("memory per idle WebSocket client     (skipped: no pincer-server beside this program)")
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
