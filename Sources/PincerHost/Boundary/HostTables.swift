// The per-plugin host tables, and the check every host call starts with.
//
// All tables live in one slab allocated once. A handle is valid when it points
// exactly at a slot of the slab and that slot's host_data still holds the token
// the host wrote there; so a forged pointer is refused after a range check,
// without ever being dereferenced, and a table the plugin copied or scribbled
// on is refused too. Slots are never reused: a stale handle keeps answering
// PINCER_ERR_SHUT_DOWN instead of reaching another plugin.
//
// This check runs on every host call, so it is kept cheap: the slab's
// coordinates are plain globals with constant initial values (no lazy-init
// check per access), written once before the first handle exists, and the
// context is lent to the call without retain/release traffic.

import CPincer
import PincerCore
import Synchronization

// Written once, under HostTables.setup's lock, before any handle is handed
// out; read-only afterwards, so reads need no synchronisation.
private var slabBase: UInt = 0
private var slabBytes: UInt = 0
private var tokenSecret: UInt = 0
private var hostDataOffset: Int = 0
private var contextSlots: UnsafeMutablePointer<Unmanaged<PluginContext>?>? = nil

enum HostTables {
    static let capacity = 4096
    private static let stride = MemoryLayout<pincer_host>.stride
    private static let nextSlot = Mutex(0)

    /// Fills a fresh slot for `context` and returns the plugin's handle.
    static func register(_ context: PluginContext) throws(CallError) -> UnsafePointer<pincer_host> {
        let slot = nextSlot.withLock { next -> Int? in
            if slabBase == 0 {
                let slab = UnsafeMutablePointer<pincer_host>.allocate(capacity: capacity)
                let contexts = UnsafeMutablePointer<Unmanaged<PluginContext>?>.allocate(capacity: capacity)
                contexts.initialize(repeating: nil, count: capacity)
                contextSlots = contexts
                tokenSecret = UInt.random(in: 1 ... .max)
                hostDataOffset = MemoryLayout<pincer_host>.offset(of: \pincer_host.host_data)!
                slabBytes = UInt(capacity * stride)
                slabBase = UInt(bitPattern: slab)
            }
            guard next < capacity else { return nil }
            next += 1
            return next - 1
        }
        guard let slot else { throw CallError(ResultCode.limit, "too many plugins loaded in this process (at most \(capacity))") }
        contextSlots![slot] = Unmanaged.passRetained(context)
        let table = UnsafeMutablePointer<pincer_host>(bitPattern: slabBase)! + slot
        table.initialize(to: HostThunks.table(hostData: UnsafeMutableRawPointer(bitPattern: (UInt(slot) &+ 1) ^ tokenSecret)))
        return UnsafePointer(table)
    }

    /// Runs `body` with the context behind a handle, checked as described above,
    /// then checks its phase and, when given, the capability the call needs.
    @inline(__always)
    static func withContext<T>(_ host: UnsafePointer<pincer_host>?, needs capability: Capabilities? = nil,
                               _ body: (PluginContext) throws(CallError) -> T) throws(CallError) -> T
    {
        let address = UInt(bitPattern: host)
        let offset = address &- slabBase
        guard offset < slabBytes else {
            throw CallError(ResultCode.badHandle, "the host handle \(String(describing: host)) is not one this host handed out")
        }
        let token = UnsafeRawPointer(bitPattern: address)!.loadUnaligned(fromByteOffset: hostDataOffset, as: UInt.self)
        let slot = Int(bitPattern: token ^ tokenSecret) &- 1
        guard slot >= 0, slot < capacity, slabBase &+ UInt(slot * stride) == address, let unmanaged = contextSlots![slot] else {
            throw CallError(ResultCode.badHandle, "the host handle is damaged: its host_data was changed")
        }
        // _withUnsafeGuaranteedRef rethrows untyped errors, so the outcome travels as a Result.
        return try unmanaged._withUnsafeGuaranteedRef { context -> Result<T, CallError> in
            if context.phase == .shutDown {
                return .failure(CallError(ResultCode.shutDown, "plugin '\(context.id)' has been shut down; its host handle answers nothing"))
            }
            if let capability, !context.capabilities.contains(capability) {
                return .failure(CallError(ResultCode.denied, "plugin '\(context.id)' lacks the capability '\(Capabilities.id(of: capability))': request it in the descriptor's capabilities (and grant it in plugins.entries.\(context.id).capabilities if that list is set)"))
            }
            do throws(CallError) { return .success(try body(context)) } catch { return .failure(error) }
        }.get()
    }

    /// True when the handle is one this host handed out and its plugin is live.
    static func isLive(_ host: UnsafePointer<pincer_host>?) -> Bool {
        (try? withContext(host) { _ in true }) ?? false
    }
}
