// The exported entry, made from a Plugin type in one line:
//
//   @_cdecl("pincer_plugin_get")
//   public func entry() -> UnsafePointer<pincer_plugin_entry> { PluginEntry.make(MyPlugin.self) }
//
// Swift cannot export a data symbol, so the kit builds the entry and its
// descriptor once, in memory that lives as long as the process (entry.h), and
// pincer_plugin_get returns that same pointer every time. The entry's C
// functions carry no context, so the plugin type and its instance live in this
// module's globals: each plugin .so links its own copy of the kit, with every
// symbol but the entry hidden, so two Swift plugins never share them.

import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The kit's version, as the descriptor's `sdk` says it.
public let pincerPluginKitVersion = "0.1.0"

private struct EntryState {
    var type: (any Plugin.Type)?
    var entry: UnsafePointer<pincer_plugin_entry>?
    var instance: (any Plugin)?
}

private let state = Mutex(EntryState())

private func pluginInstance() -> (any Plugin)? { state.withLock { $0.instance } }

/// Copies `text` into memory never freed: the descriptor must outlive every use (entry.h).
private func permanent(_ text: String) -> UnsafePointer<CChar> { UnsafePointer(strdup(text)!) }

/// Writes `message` into the host's error buffer, cut before a character that would not fit whole.
private func writeError(_ message: String, to buffer: UnsafeMutablePointer<CChar>?, capacity: Int) {
    guard let buffer, capacity > 0 else { return }
    let bytes = Array(message.utf8)
    var end = min(bytes.count, capacity - 1)
    while end > 0, end < bytes.count, bytes[end] & 0xC0 == 0x80 { end -= 1 }  // inside a character: back to its start
    for i in 0..<end { buffer[i] = CChar(bitPattern: bytes[i]) }
    buffer[end] = 0
}

private let initPlugin: @convention(c) (UnsafePointer<pincer_host>?, UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> pincer_result = {
    raw, _, errorBuffer, capacity in
    guard let raw, let type = state.withLock({ $0.type }) else { return ResultCode.invalidArgument.rawValue }
    do {
        let plugin = try type.init(host: PincerHost(raw))
        state.withLock { $0.instance = plugin }
        return ResultCode.ok.rawValue
    } catch {
        writeError((error as? PincerError)?.message ?? String(describing: error), to: errorBuffer, capacity: capacity)
        return ((error as? PincerError)?.code ?? .plugin).rawValue
    }
}

private let startPlugin: @convention(c) (UnsafePointer<pincer_host>?) -> Void = { _ in pluginInstance()?.start() }

private let shutdownPlugin: @convention(c) (UnsafePointer<pincer_host>?) -> Void = { _ in pluginInstance()?.shutdown() }

private let pluginExtension: @convention(c) (UnsafePointer<pincer_host>?, UnsafePointer<CChar>?) -> UnsafeRawPointer? = { _, id in
    guard let id else { return nil }
    return pluginInstance()?.extensionTable(String(cString: id))
}

public enum PluginEntry {
    /// The entry for `type`, built on the first call; the same pointer on every later one.
    public static func make<P: Plugin>(_ type: P.Type) -> UnsafePointer<pincer_plugin_entry> {
        state.withLock { state in
            if let entry = state.entry { return entry }
            let d = P.descriptor
            let capabilities = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: d.capabilities.count + 1)
            for (i, capability) in d.capabilities.enumerated() { capabilities[i] = permanent(capability.rawValue) }
            capabilities[d.capabilities.count] = nil
            let descriptor = UnsafeMutablePointer<pincer_plugin_descriptor>.allocate(capacity: 1)
            descriptor.initialize(to: pincer_plugin_descriptor(
                struct_size: UInt32(MemoryLayout<pincer_plugin_descriptor>.size), id: permanent(d.id), name: permanent(d.name),
                version: permanent(d.version), description: d.summary.map(permanent), capabilities: UnsafePointer(capabilities),
                language: permanent("swift"), sdk: permanent("PincerPluginKit/\(pincerPluginKitVersion)")))
            let entry = UnsafeMutablePointer<pincer_plugin_entry>.allocate(capacity: 1)
            entry.initialize(to: pincer_plugin_entry(
                abi_version: pincer_version(major: UInt32(PINCER_ABI_MAJOR), minor: UInt32(PINCER_ABI_MINOR),
                                            patch: UInt32(PINCER_ABI_PATCH), prerelease: UInt32(PINCER_ABI_PRERELEASE)),
                struct_size: UInt32(MemoryLayout<pincer_plugin_entry>.size), descriptor: UnsafePointer(descriptor),
                init: initPlugin, start: startPlugin, shutdown: shutdownPlugin, get_extension: pluginExtension))
            state.type = type
            state.entry = UnsafePointer(entry)
            return UnsafePointer(entry)
        }
    }
}
