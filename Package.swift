// swift-tools-version:6.0
// The module list reads like the architecture (ARCHITECTURE.md says what each may import):
//   CPincer        the C ABI in Include/pincer, imported into Swift (no code of its own)
//   PincerCore     the engine: sessions, runs, local model, tool policy, hooks, limiter, guards;
//                  Foundation, swift-log and CoreMetrics only (no database, no network, no C);
//                  it reaches a store and model providers through protocols it owns
//                  (SessionStore, ModelProvider)
//   PincerStore    the SQLite store: GRDB, migrations, the group-commit writer (its
//                  statements bound through SQLite's C API, GRDBSQLite)
//   PincerOpenAI   the provider for OpenAI-compatible servers: Codable wire types, server-sent
//                  events, one AsyncHTTPClient (SwiftNIO) per provider
//   PincerACP      external coding agents over the Agent Client Protocol (JSON-RPC over their
//                  stdio) as models "acp/<name>": the client side, with the host's policy
//   PincerHost     the native boundary: loader, operator config, @_cdecl host-table thunks
//   PincerGateway  `pincer serve`'s network gateway: JSON-RPC over HTTP and WebSocket (Hummingbird),
//                  auth, heartbeats, limits; the operator's method table
//   PincerCommandLine  what the command-line programs share: their commands (LocalCommands,
//                  validate), main, the command parser (no reflection: a cold start's
//                  budget), options, exit statuses, logging
//   pincer         the command line (PincerCommandLine's LocalCommands) without the server
//                  and network stacks; `pincer serve`, `pincer call` and commands whose config
//                  names network providers run pincer-server, so those stacks stay out of
//                  every other command's start
//   pincer-server  the long-running host (serve), the operator's client (call), and the
//                  same commands as pincer with the network stack (PincerOpenAI's providers)
//   pincer-bench   benchmarks that print figures; pincer-hello, the cold-start baseline;
//                  pincer-gateway-bench, the gateway's (JSON-RPC over WebSocket vs a bare echo);
//                  pincer-acp-bench, sessions on an ACP agent vs a bare client of the same agent
//   CommandLineTests  the command parser; CLITests, the command line's exit statuses and
//                  messages, through its binary
//   pincer-stress-host  the adversary storm in a process of its own, under memory and CPU caps
//                  (AdversaryTests and scripts/storm run it)
//   pincer-fuzz-host  the host the libFuzzer harness (Tests/Fuzz) runs in: real loader, real tables
//                  (scripts/fuzz runs it under ASan and LeakSanitizer; scripts/test, for 60 s)
import PackageDescription

let package = Package(
    name: "Pincer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pincer", targets: ["pincer"]),
        .library(name: "PincerHost", targets: ["PincerHost"]),
        .library(name: "PincerCore", targets: ["PincerCore"]),
        .library(name: "PincerStore", targets: ["PincerStore"]),
        .library(name: "PincerOpenAI", targets: ["PincerOpenAI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CPincer", path: "Sources/CPincer"),
        .target(name: "PincerCore", dependencies: [
            .product(name: "Logging", package: "swift-log"), .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        .target(name: "PincerStore", dependencies: ["PincerCore", .product(name: "GRDB", package: "GRDB.swift"),
                                                    .product(name: "GRDBSQLite", package: "GRDB.swift")]),
        .target(name: "PincerOpenAI", dependencies: [
            "PincerCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .target(name: "PincerACP", dependencies: ["PincerCore"]),
        .target(name: "PincerHost", dependencies: ["CPincer", "PincerCore", "PincerACP",
                                                   .product(name: "Logging", package: "swift-log")]),
        .target(name: "PincerGateway", dependencies: [
            "PincerHost", "PincerCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "PincerCommandLine", dependencies: [
            "PincerHost", "PincerCore", "PincerStore", .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(
            name: "pincer-server",
            dependencies: ["PincerGateway", "PincerCommandLine", "PincerHost", "PincerCore", "PincerOpenAI",
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log")]),
        .executableTarget(name: "pincer", dependencies: ["PincerCommandLine"]),
        .executableTarget(name: "pincer-bench", dependencies: ["PincerHost", "PincerCore", "PincerStore", "CPincer",
                                                             .product(name: "CoreMetrics", package: "swift-metrics")],
                          path: "Benchmarks/pincer-bench"),
        .executableTarget(name: "pincer-gateway-bench", dependencies: [
            "PincerGateway", "PincerHost", "PincerCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Benchmarks/pincer-gateway-bench"),
        .executableTarget(name: "pincer-acp-bench", dependencies: ["PincerHost", "PincerCore"], path: "Benchmarks/pincer-acp-bench"),
        // A Swift program that only imports Foundation and prints a line: the cold start's baseline.
        .executableTarget(name: "pincer-hello", path: "Benchmarks/pincer-hello"),
        // The engine's tests; a few follow a session through a restart, so they open an SQLite store.
        .testTarget(name: "PincerCoreTests", dependencies: ["PincerCore", "PincerStore", .product(name: "MetricsTestKit", package: "swift-metrics"),
                                                           .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "PincerOpenAITests", dependencies: ["PincerOpenAI", "PincerCore"]),
        .testTarget(name: "PincerHostTests", dependencies: ["PincerHost", "PincerCore", "PincerStore", "PincerOpenAI", "CPincer",
                                                           .product(name: "GRDB", package: "GRDB.swift"),
                                                           .product(name: "GRDBSQLite", package: "GRDB.swift"),
                                                           .product(name: "Logging", package: "swift-log")]),
        // The command lines' parser (PincerCommandLine), on a command tree of its own.
        .testTarget(name: "CommandLineTests", dependencies: ["PincerCommandLine"]),
        // Runs the built `pincer` binary (swift test builds it with everything else).
        .testTarget(name: "CLITests"),
        // Sessions on external agents over ACP, against real agents (the ACP SDK's, our test agent).
        .testTarget(name: "ACPTests", dependencies: ["PincerCore", "PincerHost", "PincerACP", "PincerStore"]),
        // `pincer serve` in a process of its own, through real WebSocket and HTTP clients.
        .testTarget(name: "GatewayTests", dependencies: [
            "PincerCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "pincer-stress-host", dependencies: ["PincerHost", "PincerCore"], path: "Tests/StressHost"),
        .executableTarget(name: "pincer-fuzz-host", dependencies: ["PincerHost", "PincerCore", "CPincer"], path: "Tests/FuzzHost"),
    ],
    swiftLanguageModes: [.v6]
)
