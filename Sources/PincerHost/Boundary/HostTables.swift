// The per-plugin host tables, and the check every host call starts with.
//
// All tables live in one slab allocated once. A handle is valid when it points
// exactly at a slot of the slab and that slot's host_data still holds the token
// the host wrote there; so a forged pointer is refused after a range check,
// without ever being dereferenced, and a table the plugin copied or scribbled
// on is refused too. Slots are never reused: a stale handle keeps answering
// PINCER_ERR_SHUT_DOWN instead of reaching another plugin.

import CPincer
import PincerCore
import Synchronization

enum HostTables {
    static let capacity = 4096
    private static let stride = MemoryLayout<pincer_host>.stride
    private static let hostDataOffset = MemoryLayout<pincer_host>.offset(of: \pincer_host.host_data)!
    private static let secret = UInt.random(in: 1 ... .max)
    private static let slab: UnsafeMutablePointer<pincer_host> = .allocate(capacity: capacity)
    private static let contexts: UnsafeMutablePointer<Unmanaged<PluginContext>?> = {
        let p = UnsafeMutablePointer<Unmanaged<PluginContext>?>.allocate(capacity: capacity)
        p.initialize(repeating: nil, count: capacity)
        return p
    }()
    private static let used = Mutex(0)

    /// Fills a fresh slot for `context` and returns the plugin's handle.
    static func register(_ context: PluginContext) throws(CallError) -> UnsafePointer<pincer_host> {
        let slot = used.withLock { used -> Int? in
            guard used < capacity else { return nil }
            used += 1
            return used - 1
        }
        guard let slot else { throw CallError(ResultCode.limit, "too many plugins loaded in this process (at most \(capacity))") }
        contexts[slot] = Unmanaged.passRetained(context)
        (slab + slot).initialize(to: HostThunks.table(hostData: UnsafeMutableRawPointer(bitPattern: token(slot))))
        return UnsafePointer(slab + slot)
    }

    @inline(__always) private static func token(_ slot: Int) -> UInt { (UInt(slot) &+ 1) ^ secret }

    /// The context behind a handle, checked as described above; then its phase
    /// and, when given, the capability the call needs.
    @inline(__always)
    static func context(_ host: UnsafePointer<pincer_host>?, needs capability: Capabilities? = nil) throws(CallError) -> PluginContext {
        let offset = UInt(bitPattern: host) &- UInt(bitPattern: slab)
        guard offset < UInt(capacity * stride) else {
            throw CallError(ResultCode.badHandle, "the host handle \(String(describing: host)) is not one this host handed out")
        }
        let raw = UnsafeRawPointer(slab) + Int(offset)
        let slot = Int(bitPattern: raw.loadUnaligned(fromByteOffset: hostDataOffset, as: UInt.self) ^ secret) &- 1
        guard slot >= 0, slot < capacity, slab + slot == UnsafeMutablePointer(mutating: host!),
              let context = contexts[slot]?.takeUnretainedValue()
        else {
            throw CallError(ResultCode.badHandle, "the host handle is damaged: its host_data was changed")
        }
        if context.phase == .shutDown {
            throw CallError(ResultCode.shutDown, "plugin '\(context.id)' has been shut down; its host handle answers nothing")
        }
        if let capability, !context.capabilities.contains(capability) {
            throw CallError(ResultCode.denied, "plugin '\(context.id)' lacks the capability '\(Capabilities.id(of: capability))': request it in the descriptor's capabilities (and grant it in plugins.entries.\(context.id).capabilities if that list is set)")
        }
        return context
    }
}
