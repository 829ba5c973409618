// pincer-server: the long-running host (`pincer serve`), the operator's client
// of its gateway (`pincer call`), and the commands `pincer` carries
// (LocalCommands) with the network stack: PincerOpenAI's providers for configs
// that name OpenAI-compatible servers. A program of its own so that the server
// and network stacks (Hummingbird, AsyncHTTPClient, SwiftNIO) are loaded only by
// the commands that need them; `pincer` runs it for those, with the same arguments.

import Foundation
import Logging
import PincerCore
import PincerGateway
import PincerHost
import PincerCommandLine
import PincerOpenAI

@main
enum PincerServer {
    static func main() async {
        NetworkStack.register { settings throws(EngineError) in try OpenAICompatibleProvider(settings) }
        await CommandLineProgram.run(LocalCommands.root(adding: [Serve.command, Call.command]), version: LocalCommands.version)
    }
}

struct Serve {
    static let command = Command(
        "serve",
        abstract: "Run the host with its network gateway until SIGTERM or SIGINT: JSON-RPC 2.0 over HTTP POST and WebSocket at /rpc, liveness at /healthz.",
        discussion: """
            The config's "gateway" object sets the listen address, the operator's bearer token \
            (gateway.token, or gateway.tokenEnv naming an environment variable), the heartbeat and \
            the limits. Without a token the server binds loopback only. SIGHUP re-reads the config; \
            a second stop signal exits at once.
            """,
        options: [.value("plugins", help: "Directory whose .so files are loaded as plugins, in sorted order.")]
            + HostOptions.options + StoreOptions.options
            + [.value("listen", help: "HOST:PORT to listen on (overrides gateway.listen; port 0 picks a free one).")], action: .async { parsed in
        try await Serve(plugins: parsed.value("plugins"), options: HostOptions(parsed), storeOptions: StoreOptions(parsed),
                        listen: parsed.value("listen")).run()
    })

    var plugins: String?
    var options: HostOptions
    var storeOptions: StoreOptions
    var listen: String?

    func run() async throws {
        GatewayHost.bootstrapMetrics()
        let host = try options.makeHost(plugins: plugins, store: { try storeOptions.open() })
        var settings = host.config.gateway
        if let listen {
            guard let address = GatewaySettings.listenAddress(listen) else { throw RuntimeFailure(message: "--listen \(listen): expected HOST:PORT") }
            (settings.listenHost, settings.listenPort) = address
        }
        let token: String?
        do { token = try settings.resolvedToken() } catch { throw RuntimeFailure(message: "\(options.config ?? "config"): \(error.description)") }
        if let refusal = GatewayHost.refusal(settings, token: token) {
            host.shutdown()
            throw RuntimeFailure(message: refusal)
        }
        if host.engine.interruptedAtStart > 0 {
            host.engine.log("\(host.engine.interruptedAtStart) run(s) a stopped host left in flight are now marked interrupted")
        }
        host.start()
        let gateway = GatewayHost(host: host, live: LiveSettings(settings, token: token), configPath: options.config,
                                  logger: Logger(label: "pincer.gateway"))
        do {
            try await gateway.run { address in
                printLine("pincer: serving on http://\(address) (JSON-RPC: POST /rpc or WebSocket /rpc; liveness: GET /healthz)\(token == nil ? "" : "; the operator's token is required")")
            }
        } catch {
            throw RuntimeFailure(message: "serving on \(settings.listenHost):\(settings.listenPort): \(error)")
        }
    }
}

struct Call {
    static let command = Command(
        "call",
        abstract: "Call a method of a running `pincer serve` and print its result as JSON (runs.subscribe prints each event as it comes).",
        discussion: "Exit status: 0 a result; 2 a JSON-RPC error (printed as pincer: <code> <message>); 1 no answer (server down, refused).",
        options: [.value("url", default: "ws://127.0.0.1:7420/rpc", help: "The gateway's WebSocket URL."),
                  .value("token", help: "The operator's token (default: $PINCER_GATEWAY_TOKEN).")],
        arguments: [Argument("method", help: "The method, e.g. status, sessions.create, runs.wait (rpc.methods lists them)."),
                    Argument("params", optional: true, help: "Its params, as a JSON object.")], action: .async { parsed in
        try await Call(method: parsed.required("method"), params: parsed.argument("params"),
                       url: parsed.required("url"), token: parsed.value("token")).run()
    })

    var method: String
    var params: String?
    var url: String
    var token: String?

    func run() async throws {
        var parsed: JSON?
        if let params {
            do { parsed = try JSON.parse(params) } catch { throw RuntimeFailure(message: "the params are not valid JSON: \(error)") }
            guard parsed?.objectValue != nil || parsed?.arrayValue != nil else { throw RuntimeFailure(message: "the params must be a JSON object (or array)") }
        }
        let token = self.token ?? ProcessInfo.processInfo.environment["PINCER_GATEWAY_TOKEN"]
        let response: JSON
        do {
            response = try await OperatorClient.call(url: url, token: token, method: method, params: parsed) { notification in
                printLine(notification["params"]?.description ?? notification.description)
            }
        } catch {
            throw RuntimeFailure(message: "\(error)")
        }
        if let error = response["error"] {
            throw RuntimeFailure(message: "\(error["code"]?.description ?? "?") \(error["message"]?.stringValue ?? error.description)", status: .rpcError)
        }
        // A subscription's lines said it all; its acknowledgement is not printed.
        if method != "runs.subscribe" { printLine(response["result"]?.description ?? "null") }
    }
}

/// A line on stdout at once (unbuffered): a script or test waits on it.
func printLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
