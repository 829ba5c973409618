// `pincer serve`'s life, on swift-service-lifecycle. Two services: the HTTP
// server, and the plugin host. At SIGTERM or SIGINT the host goes first (the
// group stops services in reverse order): the engine takes no new work, the
// runs at work get gateway.shutdownGraceMs to end, the rest are interrupted,
// plugins stop by the ABI's phases, the store is flushed — while the server
// still answers, so a client waiting on a run hears how it ended. Then the
// server closes. A second signal ends the process at once (what the store
// committed stays; runs it left open are marked interrupted at the next start).
// SIGHUP re-reads the config file: the gateway's token, heartbeat and limits
// and who may use external agents (plugins.allowAcpSpawn) change live; what
// cannot change without a restart is named in the log.

import Dispatch
import Foundation
import Logging
import PincerCore
import Metrics
import PincerHost
import Prometheus
import ServiceLifecycle
import Synchronization

public struct GatewayHost: Sendable {
    public let host: PluginHost
    public let live: LiveSettings
    public let configPath: String?
    public let logger: Logger

    public init(host: PluginHost, live: LiveSettings, configPath: String?, logger: Logger) {
        self.host = host
        self.live = live
        self.configPath = configPath
        self.logger = logger
    }

    /// Where the process's swift-metrics go, for /metrics. Bootstrapped once, before the engine
    /// is made (its figures take their handlers from the metrics system when created).
    public static let metrics = PrometheusCollectorRegistry()

    public static func bootstrapMetrics() { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics)) }

    /// Why the server may not start as configured (a non-loopback address without a token), or nil.
    public static func refusal(_ settings: GatewaySettings, token: String?) -> String? {
        guard token == nil, !GatewaySettings.isLoopback(settings.listenHost) else { return nil }
        return "gateway.listen is \(settings.listenHost):\(settings.listenPort), not a loopback address, and no token is set: set gateway.token or gateway.tokenEnv, or listen on 127.0.0.1"
    }

    /// Serves until a signal stops it; `onListening` hears the bound address.
    public func run(onListening: @escaping @Sendable (String) -> Void) async throws {
        let methods = OperatorMethods(host: host, clients: ClientRegistry())
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .notice)  // not Hummingbird's per-start and per-request lines
        let app = GatewayServer.application(methods: methods, live: live, metrics: Self.metrics, logger: serverLogger) { address in
            onListening(address.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown")
        }
        let signals = SignalWatch(logger: logger, reload: { [self] in reload() })
        defer { signals.cancel() }
        let graceMs = live.current.settings.shutdownGraceMs
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: app), .init(service: HostService(host: host, graceMs: graceMs, logger: logger))],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // The grace, the engine's own bound on interrupting runs (10 s) and the plugins' drain; then cancel.
        configuration.maximumGracefulShutdownDuration = .milliseconds(graceMs) + .seconds(30)
        let group = ServiceGroup(configuration: configuration)
        try await group.run()
    }

    /// SIGHUP: re-reads the config; applies what can change live, names what cannot.
    func reload() {
        guard let configPath else {
            logger.notice("SIGHUP: no --config file to re-read")
            return
        }
        let config: OperatorConfig, token: String?
        do {
            config = try OperatorConfig.load(path: configPath)
            token = try config.gateway.resolvedToken()
        } catch {
            logger.error("SIGHUP: \(error); the running config is kept")
            return
        }
        let (old, oldToken) = live.current
        var applied = config.gateway
        var needRestart: [String] = []
        if (applied.listenHost, applied.listenPort) != (old.listenHost, old.listenPort) {
            needRestart.append("gateway.listen")
            (applied.listenHost, applied.listenPort) = (old.listenHost, old.listenPort)
        }
        if applied.maxConnections != old.maxConnections {
            needRestart.append("gateway.limits.maxConnections")
            applied.maxConnections = old.maxConnections
        }
        if let refusal = Self.refusal(applied, token: token) {
            logger.error("SIGHUP: \(refusal); the running config is kept")
            return
        }
        live.replace(applied, token: token)
        // Checked at every call on an external agent's session: it follows the config as re-read.
        host.engine.access.externalAgents.update(allowed: config.engine.allowAcpSpawn, deniedPlugins: config.engine.acpSpawnDenied)
        let changed = applied != old || token != oldToken
        logger.notice("SIGHUP: re-read \(configPath): gateway settings \(changed ? "applied (token, heartbeat, limits)" : "unchanged"); plugins.allowAcpSpawn and each entry's applied\(needRestart.isEmpty ? "" : "; \(needRestart.joined(separator: ", ")) changed but take effect only at a restart"); plugins, tools, guards, engine and providers settings take effect at the next start")
    }
}

/// The plugin host as a service: it runs until the graceful stop, then shuts the host down.
struct HostService: Service {
    let host: PluginHost
    let graceMs: Int
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        let (host, graceMs, logger) = (self.host, self.graceMs, self.logger)
        // Waiting on runs and plugins blocks: not on the cooperative pool.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                logger.notice("stopping: no new work; runs at work get up to \(graceMs) ms to end (gateway.shutdownGraceMs)")
                if !host.engine.finishRuns(timeout: Double(graceMs) / 1000) {
                    logger.notice("stopping: runs still at work are interrupted")
                }
                host.shutdown()
                logger.notice("stopped: plugins shut down, the store flushed")
                done.resume()
            }
        }
    }
}

/// SIGHUP → reload; a second SIGTERM or SIGINT → exit at once. ServiceLifecycle handles the first.
final class SignalWatch {
    private let sources: [any DispatchSourceSignal]

    init(logger: Logger, reload: @escaping @Sendable () -> Void) {
        let stops = Atomic<Int>(0)
        let queue = DispatchQueue(label: "pincer-signals")
        for number in [SIGHUP, SIGTERM, SIGINT] { signal(number, SIG_IGN) }
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        hangup.setEventHandler { reload() }
        var sources: [any DispatchSourceSignal] = [hangup]
        for number in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                if stops.add(1, ordering: .relaxed).newValue >= 2 {
                    logger.warning("a second stop signal: exiting at once (committed work stays in the store)")
                    exit(130)
                }
            }
            sources.append(source)
        }
        for source in sources { source.resume() }
        self.sources = sources
    }

    func cancel() { for source in sources { source.cancel() } }
}
