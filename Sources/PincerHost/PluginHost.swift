// The host side of the plugin lifecycle: load every .so in a directory (in
// sorted order), apply the operator's config, init each plugin with its own
// host table, start them, and stop them through host.h's phases. A plugin that
// is refused gets one log line naming its file and the reason; the host and
// every other plugin go on.

import CPincer
import Foundation
import Logging
import PincerCore

/// A plugin whose init succeeded: its entry, its own host table, its context.
struct LoadedPlugin {
    let record: PluginRecord
    let entry: pincer_plugin_entry
    let host: UnsafePointer<pincer_host>
    let context: PluginContext
}

// @unchecked: its lists are guarded by `lock`; an entry's C pointers stay valid for the process.
public final class PluginHost: @unchecked Sendable {
    public typealias LogSink = @Sendable (_ pluginId: String, _ level: PluginLogLevel, _ message: String) -> Void

    public let engine: Engine
    public let config: OperatorConfig
    /// The methods and routes plugins registered (gateway.h); `pincer serve` serves them.
    public let gateway = PluginGateway()
    private let log: LogSink
    private let hostLog: @Sendable (String) -> Void
    /// Whether each plugin's contract faults are recorded (pincer validate).
    private let diagnose: Bool
    private let lock = NSLock()
    private var loaded: [LoadedPlugin] = []
    /// Plugins stopped while diagnosing, whose diagnostics are still read after their shutdown.
    private var stopped: [LoadedPlugin] = []
    /// Images whose init has been called: init runs at most once per image (entry.h's re-init rule).
    private var initializedImages: [UnsafeMutableRawPointer: String] = [:]
    public private(set) var records: [PluginRecord] = []

    /// - Parameters:
    ///   - log: receives each plugin's host->log lines; nil sends them to swift-log
    ///     (label "pincer.plugin", the plugin's id as `plugin` metadata).
    ///   - hostLog: receives the host's own lines (refusals, loads, warnings) and the engine's;
    ///     nil leaves them on swift-log (label "pincer").
    ///   - diagnose: record each plugin's contract faults (`diagnostics(of:)`), as `pincer validate` does.
    public init(engine: Engine, config: OperatorConfig = OperatorConfig(),
                log: LogSink? = nil, hostLog: (@Sendable (String) -> Void)? = nil, diagnose: Bool = false)
    {
        self.engine = engine
        self.diagnose = diagnose
        self.config = config
        gateway.setReplyTimeout(ms: config.gateway.pluginReplyTimeoutMs)
        self.log = log ?? PluginHost.swiftLogPluginLines
        if let hostLog {
            self.hostLog = hostLog
            engine.setLog(hostLog)
        } else {
            self.hostLog = { [weak engine] line in engine?.log(line) }
        }
    }

    /// A plugin's line to swift-log: label "pincer.plugin", its id as `plugin` metadata,
    /// log.h's severity as the level (HostLogHandler prints it as log.h documents).
    public static let swiftLogPluginLines: LogSink = { id, level, message in
        var logger = Logger(label: HostLogHandler.pluginLabel)
        logger[metadataKey: "plugin"] = "\(id)"
        logger.log(level: level.swiftLogLevel, "\(message)")
    }

    /// A host line to swift-log (label "pincer").
    public static let swiftLogHostLines: @Sendable (String) -> Void = { Logger(label: "pincer").notice("\($0)") }

    /// Why the host must not start with this directory: a required plugin did not load,
    /// or plugins.strict refuses an entry that names no plugin.
    public struct StartRefusal: Error, CustomStringConvertible {
        public let description: String
    }

    /// Loads and inits every `.so` directly in `directory`, sorted by name, then checks that
    /// every config entry names a plugin that loaded (a warning; with plugins.strict, an error).
    @discardableResult
    public func loadDirectory(_ directory: String) throws -> [PluginRecord] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".so") }.sorted()
        let loadedRecords = names.map { load(file: (directory as NSString).appendingPathComponent($0)) }
        for (id, entry) in config.entries.sorted(by: { $0.key < $1.key }) where entry.required {
            guard !records.contains(where: { $0.id == id && $0.state == .loaded }) else { continue }
            let refusal = records.first { $0.id == id }.map { "\($0.file) was refused: \($0.reason ?? "")" } ?? "no plugin in \(directory) has that id"
            throw StartRefusal(description: "plugins.entries.\(id).required is true, but \(refusal); the host does not start without it")
        }
        let known = Set(records.compactMap(\.id))
        for id in config.entries.keys.sorted() where !known.contains(id) {
            let line = "config entry plugins.entries.\(id) names no plugin found in \(directory): is the id misspelt? Its settings apply to nothing"
            if config.strict { throw StartRefusal(description: line + " (plugins.strict is true)") }
            hostLog("warning: " + line)
        }
        return loadedRecords
    }

    /// Loads and inits one plugin file; a refusal is recorded and logged, never thrown.
    @discardableResult
    public func load(file path: String) -> PluginRecord {
        let record: PluginRecord
        switch PluginLoader.open(path) {
        case .failure(let refusal): record = refusal.record
        case .success(let opened): record = initialize(opened)
        }
        lock.lock()
        records.append(record)
        lock.unlock()
        engine.addPlugin(record.summary)
        for warning in record.warnings { hostLog("warning: \(record.file): \(warning)") }
        if record.state == .refused {
            hostLog("refused \(record.file): \(record.reason ?? "")")
        } else {
            hostLog("loaded \(record.id!) \(record.version!) (ABI \(record.abiVersion!)) from \(record.file)")
        }
        return record
    }

    private func initialize(_ opened: OpenedPlugin) -> PluginRecord {
        var record = opened.record
        let id = record.id!
        func refuse(_ reason: String) -> PluginRecord {
            record.reason = reason
            return record
        }
        lock.lock()
        let duplicate = loaded.first { $0.record.id == id }?.record.file
        let sameImage = initializedImages[opened.image]
        lock.unlock()
        if let sameImage { return refuse("this image was already initialised in this process (from \(sameImage)); a plugin's init runs at most once per image") }
        if let duplicate { return refuse("duplicate plugin id '\(id)': already loaded from \(duplicate)") }
        if let why = config.refusal(for: id) { return refuse(why) }
        let entryConfig = config.entries[id]
        if let entryConfig, let why = bindingRefusal(entryConfig, id: id, file: record.file) { return refuse(why) }

        var granted = Capabilities()
        for cap in opened.requested {
            guard let flag = Capabilities.byId.first(where: { $0.0 == cap })?.1 else {
                record.unknownCapabilities.append(cap)
                continue
            }
            if entryConfig?.capabilities.map({ $0.contains(cap) }) ?? true {
                granted.insert(flag)
                record.capabilities.append(cap)
            }
        }
        if !record.unknownCapabilities.isEmpty {
            let line = "descriptor asks for capabilities this host does not know: \(record.unknownCapabilities.joined(separator: ", ")) (a newer ABI's, or a typo); they are ignored"
            if config.strict { return refuse(line + " — refused because plugins.strict is true") }
            record.warnings.append(line)
        }
        let context = PluginContext(id: id, file: record.file, engine: engine, gateway: gateway, capabilities: granted,
                                    configJSON: (entryConfig?.config ?? .object([])).description,
                                    diagnostics: diagnose ? PluginDiagnostics() : nil, log: log)
        let host: UnsafePointer<pincer_host>
        do { host = try HostTables.register(context) } catch { return refuse(error.message) }

        lock.lock()
        initializedImages[opened.image] = record.file
        lock.unlock()
        var message = [CChar](repeating: 0, count: 1024)
        let code = record.file.withCString { path in opened.entry.`init`!(host, path, &message, message.count) }
        guard code == ResultCode.ok else {
            // Nothing it registered takes effect; its handle answers SHUT_DOWN from now on.
            context.withdrawAll()
            context.phase = .dead
            message[message.count - 1] = 0
            let reason = message.withUnsafeBufferPointer { buffer in
                String(validatingCString: buffer.baseAddress!) ?? "(the reason given is not valid UTF-8)"
            }
            return refuse("init failed with \(ResultCode.name(code)): \(reason.isEmpty ? "no reason given" : reason)")
        }
        context.phase = .live
        context.commitStaged()
        record.state = .loaded
        if granted.contains(.registerTools) { record.tools = engine.tools.all.filter { $0.owner == id }.map(\.name) }
        if !granted.isDisjoint(with: [.gate, .observe]) {
            record.hooks = engine.hooks.hooks(of: id).map { "\($0.point.name) (priority \($0.priority))" }
        }
        record.mayUseAgents = engine.access.externalAgents.refusal(for: id) == nil
        if granted.contains(.gatewayServe) {
            record.methods = gateway.methods.filter { $0.pluginId == id }.map(\.name)
            record.routes = gateway.routes(of: id).map { "\($0.method ?? "*") \($0.path)\($0.matchesBelow ? "/…" : "")\($0.isPublic ? " (public)" : "")" }
        }
        lock.lock()
        loaded.append(LoadedPlugin(record: record, entry: opened.entry, host: host, context: context))
        lock.unlock()
        return record
    }

    /// Why a config entry bound to a file (path, sha256) does not apply to this one, or nil.
    private func bindingRefusal(_ entry: OperatorConfig.PluginEntry, id: String, file: String) -> String? {
        if let path = entry.path {
            var real = file
            if let resolved = realpath(file, nil) {
                real = String(cString: resolved)
                free(resolved)
            }
            if real != path { return "plugins.entries.\(id).path is \(path), but this plugin claiming id '\(id)' is \(real)" }
        }
        if let expected = entry.sha256 {
            guard let actual = FileDigest.sha256(ofFile: file) else { return "cannot read \(file) to check plugins.entries.\(id).sha256" }
            if actual != expected { return "plugins.entries.\(id).sha256 is \(expected), but this file's SHA-256 is \(actual)" }
        }
        return nil
    }

    /// Calls start() on every loaded plugin, in load order.
    public func start() {
        for plugin in snapshot() {
            plugin.entry.start?(plugin.host)
        }
    }

    /// host.h's shutdown order: stop taking work and end every run, then stop each plugin in
    /// reverse load order (stopping, draining, shutdown(), dead), then flush the store.
    public func shutdown() {
        engine.stopRuns()
        lock.lock()
        let plugins = loaded
        loaded.removeAll()
        lock.unlock()
        for plugin in plugins.reversed() { stop(plugin) }
        engine.close()
    }

    /// Stops one plugin through the phases while the engine and the other plugins go on; false
    /// when no loaded plugin has the id. Its sessions and their runs are left as they are.
    @discardableResult
    public func stop(pluginId: String) -> Bool {
        lock.lock()
        let index = loaded.firstIndex { $0.record.id == pluginId }
        let plugin = index.map { loaded.remove(at: $0) }
        lock.unlock()
        guard let plugin else { return false }
        stop(plugin)
        return true
    }

    /// What a plugin did against the contract so far; nil unless the host diagnoses, or for an unknown id.
    public func diagnostics(of pluginId: String) -> PluginDiagnostics? {
        lock.lock()
        defer { lock.unlock() }
        return (loaded + stopped).first { $0.record.id == pluginId }?.context.diagnostics
    }

    private func stop(_ plugin: LoadedPlugin) {
        let context = plugin.context
        context.phase = .stopping
        engine.hooks.stop(plugin: context.id)
        engine.wakeWaiters()
        let deadline = MonotonicClock.nanoseconds() &+ UInt64(config.drainTimeoutMs) * 1_000_000
        while context.callbacksRunning > 0, MonotonicClock.nanoseconds() < deadline { usleep(1000) }
        let overrun = context.callbacksRunning
        if overrun > 0 {
            hostLog("plugin '\(context.id)': \(overrun) callbacks still running after plugins.drainTimeoutMs = \(config.drainTimeoutMs) ms; calling its shutdown() anyway")
        }
        context.withdrawAll(keepHooksListed: true)
        gateway.stop(pluginId: context.id)
        context.closeEventsLane()
        context.closeReleases()
        plugin.entry.shutdown(plugin.host)
        context.phase = .dead
        if diagnose {
            lock.lock()
            stopped.append(plugin)
            lock.unlock()
        }
    }

    /// A table the plugin offers through its get_extension, or nil.
    public func pluginExtension(pluginId: String, _ extensionId: String) -> UnsafeRawPointer? {
        guard let plugin = snapshot().first(where: { $0.record.id == pluginId }), plugin.context.phase == .live,
              let getExtension = plugin.entry.get_extension
        else { return nil }
        return extensionId.withCString { getExtension(plugin.host, $0) }
    }

    /// The host table handed to a loaded plugin (for tests and benchmarks that call it as the plugin would).
    public func hostTable(pluginId: String) -> UnsafePointer<pincer_host>? {
        snapshot().first(where: { $0.record.id == pluginId })?.host
    }

    public var recordsJSON: String { JSON.array(records.map(\.json)).description }

    private func snapshot() -> [LoadedPlugin] {
        lock.lock()
        defer { lock.unlock() }
        return loaded
    }
}
