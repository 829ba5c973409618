// The host side of the plugin lifecycle: load every .so in a directory (in
// sorted order), apply the operator's config, init each plugin with its own
// host table, start them, and shut them down in reverse order. A plugin that
// is refused gets one log line naming its file and the reason; the host and
// every other plugin go on.

import CPincer
import Foundation
import PincerCore

/// A plugin whose init succeeded: its entry, its own host table, its context.
struct LoadedPlugin {
    let record: PluginRecord
    let entry: UnsafePointer<pincer_plugin_entry>
    let host: UnsafePointer<pincer_host>
    let context: PluginContext
}

public final class PluginHost: @unchecked Sendable {
    public typealias LogSink = @Sendable (_ pluginId: String, _ level: PluginLogLevel, _ message: String) -> Void

    public let engine: Engine
    public let config: OperatorConfig
    private let log: LogSink
    private let hostLog: @Sendable (String) -> Void
    private let lock = NSLock()
    private var loaded: [LoadedPlugin] = []
    public private(set) var records: [PluginRecord] = []

    /// - Parameters:
    ///   - log: receives each plugin's host->log lines.
    ///   - hostLog: receives the host's own lines (refusals, loads).
    public init(engine: Engine, config: OperatorConfig = OperatorConfig(),
                log: @escaping LogSink = PluginHost.standardErrorLog,
                hostLog: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(("pincer: " + $0 + "\n").utf8)) })
    {
        self.engine = engine
        self.config = config
        self.log = log
        self.hostLog = hostLog
        engine.setLog(hostLog)
    }

    public static let standardErrorLog: LogSink = { id, level, message in
        let prefix = level == .info ? "" : "\(level.label): "
        FileHandle.standardError.write(Data("[\(id)] \(prefix)\(message)\n".utf8))
    }

    /// Loads and inits every `.so` directly in `directory`, sorted by name.
    @discardableResult
    public func loadDirectory(_ directory: String) throws -> [PluginRecord] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".so") }.sorted()
        return names.map { load(file: (directory as NSString).appendingPathComponent($0)) }
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
        lock.unlock()
        if let duplicate { return refuse("duplicate plugin id '\(id)': already loaded from \(duplicate)") }
        if let why = config.refusal(for: id) { return refuse(why) }

        let entryConfig = config.entries[id]
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
        let context = PluginContext(id: id, file: record.file, engine: engine, capabilities: granted,
                                    configJSON: (entryConfig?.config ?? .object([])).description, log: log)
        let host: UnsafePointer<pincer_host>
        do { host = try HostTables.register(context) } catch { return refuse(error.message) }

        var message = [CChar](repeating: 0, count: 1024)
        context.phase = .live
        let code = opened.entry.pointee.`init`!(host, &message, message.count)
        guard code == ResultCode.ok else {
            context.phase = .shutDown
            message[message.count - 1] = 0
            let reason = message.withUnsafeBufferPointer { buffer in
                String(validatingCString: buffer.baseAddress!) ?? "(the reason given is not valid UTF-8)"
            }
            return refuse("init failed with \(ResultCode.name(code)): \(reason.isEmpty ? "no reason given" : reason)")
        }
        record.state = .loaded
        if granted.contains(.registerTools) { record.tools = engine.tools.all.filter { $0.owner == id }.map(\.name) }
        if granted.contains(.registerHooks) { record.hooks = engine.hooks.hooks(of: id).map { "\($0.point.name) (priority \($0.priority))" } }
        lock.lock()
        loaded.append(LoadedPlugin(record: record, entry: opened.entry, host: host, context: context))
        lock.unlock()
        return record
    }

    /// Calls start() on every loaded plugin, in load order.
    public func start() {
        for plugin in snapshot() {
            plugin.entry.pointee.start?(plugin.host)
        }
    }

    /// Calls shutdown() on every loaded plugin in reverse load order; their handles answer SHUT_DOWN afterwards.
    public func shutdown() {
        lock.lock()
        let plugins = loaded
        loaded.removeAll()
        lock.unlock()
        for plugin in plugins.reversed() {
            // Its own threads may still use its tools and cause hook calls while it shuts
            // down; once shutdown() returns, no new call reaches it (PluginTool and
            // PluginHook check the phase) and its queued hook events are dropped.
            plugin.entry.pointee.shutdown(plugin.host)
            plugin.context.phase = .shutDown
            engine.hooks.unregisterAll(plugin: plugin.context.id)
            engine.tools.unregisterAll(owner: plugin.context.id)
        }
    }

    /// A table the plugin offers through its get_extension, or nil.
    public func pluginExtension(pluginId: String, _ extensionId: String) -> UnsafeRawPointer? {
        guard let plugin = snapshot().first(where: { $0.record.id == pluginId }),
              let getExtension = plugin.entry.pointee.get_extension
        else { return nil }
        return getExtension(extensionId)
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
