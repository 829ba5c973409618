// The per-plugin host tables, and the check every host call starts with.
//
// Each table lives in a page of its own, mapped at a random address, so no
// fixed offset leads from one plugin's table to another's (in-process this
// makes a neighbour's handle hard to find, not impossible: see the trust
// model in pincer.h). A handle is valid when it is the address of a page this
// host mapped for a table — looked up in an index the host owns, so a forged
// pointer is refused without ever being dereferenced — and the table's
// host_data still holds that plugin's random token, so a table the plugin
// scribbled on is refused too. Tables are never reused: a stale handle keeps
// answering PINCER_ERR_SHUT_DOWN instead of reaching another plugin.
//
// This check runs on every host call, so it is kept cheap: the index is a
// fixed open-addressed array written once per plugin and read without a
// lock, and the context is lent to the call without retain/release traffic.

import CPincer
import PincerCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One slot of the index: a table's address, its token and its plugin. Written once,
/// under HostTables' lock, before the handle exists; never changed afterwards.
private struct IndexSlot {
    var address: UInt
    var token: UInt
    var context: Unmanaged<PluginContext>?
}

// Allocated once before the first handle exists, then only appended to; lookups of a
// handed-out address only ever walk slots filled before it (no removals), so they need no lock.
// Published with release once it and the globals below are set, read with acquire: a forged
// handle racing the first registration sees either no index or a filled one.
private let indexAddress = Atomic<UInt>(0)
private var index: UnsafeMutablePointer<IndexSlot>? {
    UnsafeMutablePointer(bitPattern: indexAddress.load(ordering: .acquiring))
}
private nonisolated(unsafe) var pageSize: UInt = 4096
/// log2 of pageSize: the hot path shifts, as a division costs tens of cycles.
private nonisolated(unsafe) var pageShift: UInt = 12
/// Where host_data sits in a table; a global set with the index, not a lazy static (which
/// costs a swift_once check on every host call).
private nonisolated(unsafe) var hostDataOffset = 0

enum HostTables {
    /// Plugins one process may load.
    static let capacity = 4096
    private static let indexSlots = 8192 // a power of two, at least twice the capacity
    private static let registered = Mutex(0)

    private static func slot(of address: UInt) -> Int {
        Int(truncatingIfNeeded: ((address &>> pageShift) &* 0x9E37_79B9_7F4A_7C15) >> 51) & (indexSlots - 1)
    }

    /// Maps a fresh table for `context` and returns the plugin's handle.
    static func register(_ context: PluginContext) throws(CallError) -> UnsafePointer<pincer_host> {
        try registered.withLock { (count: inout Int) throws(CallError) -> UnsafePointer<pincer_host> in
            if index == nil {
                pageSize = UInt(sysconf(Int32(_SC_PAGESIZE)))
                pageShift = UInt(pageSize.trailingZeroBitCount)
                hostDataOffset = MemoryLayout<pincer_host>.offset(of: \pincer_host.host_data)!
                let slots = UnsafeMutablePointer<IndexSlot>.allocate(capacity: indexSlots)
                slots.initialize(repeating: IndexSlot(address: 0, token: 0, context: nil), count: indexSlots)
                indexAddress.store(UInt(bitPattern: slots), ordering: .releasing)
            }
            guard count < capacity else { throw CallError(ResultCode.limit, "too many plugins loaded in this process (at most \(capacity))") }
            let page = try mapPage()
            var i = slot(of: UInt(bitPattern: page))
            while index![i].address != 0 { i = (i + 1) & (indexSlots - 1) }
            let token = UInt(truncatingIfNeeded: RandomWords.next() | 1)  // never 0
            let table = page.bindMemory(to: pincer_host.self, capacity: 1)
            table.initialize(to: HostThunks.table(hostData: UnsafeMutableRawPointer(bitPattern: token)))
            index![i] = IndexSlot(address: UInt(bitPattern: page), token: token, context: .passRetained(context))
            context.slot = i
            count += 1
            return UnsafePointer(table)
        }
    }

    /// A page at a random address (the kernel takes the hint when that range is free).
    private static func mapPage() throws(CallError) -> UnsafeMutableRawPointer {
        let hint = UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: 0x1000_0000_0000 + RandomWords.next() % 0x4000_0000_0000) & ~(pageSize - 1))
        guard let page = mmap(hint, Int(pageSize), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              page != MAP_FAILED
        else { throw CallError(ResultCode.internalFailure, "cannot map a page for the plugin's host table: \(String(cString: strerror(errno)))") }
        return page
    }

    /// The index slot of a valid handle, or the reason it is not one. Never dereferences
    /// a pointer before the index has vouched for it.
    @inline(__always)
    static func lookup(_ host: UnsafePointer<pincer_host>?) -> Result<Int, CallError> {
        let address = UInt(bitPattern: host)
        if let index, address != 0, address & (pageSize - 1) == 0 {
            var i = slot(of: address)
            while index[i].address != 0 {
                if index[i].address == address {
                    let token = UnsafeRawPointer(host!).load(fromByteOffset: hostDataOffset, as: UInt.self)
                    guard token == index[i].token else {
                        return .failure(CallError(ResultCode.badHandle, "the host handle is damaged: its host_data was changed"))
                    }
                    return .success(i)
                }
                i = (i + 1) & (indexSlots - 1)
            }
        }
        return .failure(CallError(ResultCode.badHandle, "the host handle \(String(describing: host)) is not one this host handed out"))
    }

    /// Runs `body` with the context behind a handle, checked as described above, then
    /// checks the plugin's phase (a blocking call is refused once it is stopping, any
    /// call once it is dead) and, when given, the capability the call needs.
    @inline(__always)
    static func withContext<T>(_ host: UnsafePointer<pincer_host>?, needs capability: Capabilities? = nil, blocking: Bool = false,
                               _ body: (PluginContext) throws(CallError) -> T) throws(CallError) -> T
    {
        let i = try lookup(host).get()
        // _withUnsafeGuaranteedRef rethrows untyped errors, so the outcome travels as a Result.
        return try index![i].context!._withUnsafeGuaranteedRef { context -> Result<T, CallError> in
            let phase = context.phase
            if phase == .dead || (blocking && phase == .stopping) {
                return .failure(CallError(ResultCode.shutDown, "plugin '\(context.id)' \(phase == .dead ? "has been shut down; its host handle answers nothing" : "is stopping; blocking calls return at once")"))
            }
            if let capability, !context.capabilities.contains(capability) {
                return .failure(CallError(ResultCode.denied, "plugin '\(context.id)' lacks the capability '\(Capabilities.id(of: capability))': request it in the descriptor's capabilities (and grant it in plugins.entries.\(context.id).capabilities if that list is set)"))
            }
            do throws(CallError) { return .success(try body(context)) } catch { return .failure(error) }
        }.get()
    }

    /// The hot calls' check: `body`'s answer when the handle is valid, the plugin not dead and
    /// holding `capability`; nil otherwise, and the caller takes withContext's path, which says why.
    @inline(__always)
    static func withLiveContext<T>(_ host: UnsafePointer<pincer_host>?, needs capability: Capabilities,
                                   _ body: (PluginContext) -> T?) -> T? {
        guard case .success(let i) = lookup(host) else { return nil }
        return index![i].context!._withUnsafeGuaranteedRef { context in
            guard context.phase != .dead, context.capabilities.contains(capability) else { return nil }
            return body(context)
        }
    }

    /// The plugin behind a valid handle (any phase), or nil.
    static func context(_ host: UnsafePointer<pincer_host>?) -> PluginContext? {
        guard case .success(let i) = lookup(host) else { return nil }
        return index![i].context!.takeUnretainedValue()
    }
}
