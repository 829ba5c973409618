// An open-addressing hash table keyed by raw byte strings, for the hot paths
// that must not build a Swift String per call (rate-limit keys, session-state
// lookups from C). Each entry is one malloc'd block:
//
//   [key length: UInt32][owner word: UInt32][key bytes, padded to 8][payload]
//
// The owner lays out the payload and may resize it. Linear probing with
// backward-shift deletion (no tombstones); capacity is a power of two and the
// load factor stays at or under 3/4. Not thread-safe: owners guard it (a
// Mutex owns it). A non-copyable struct rather than a class: its fields are
// then checked for exclusive access at compile time, not on every access.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct ByteKeyedTable: ~Copyable {
    struct Slot {
        var hash: UInt64
        var block: UnsafeMutableRawPointer?
    }

    private(set) var slots: UnsafeMutablePointer<Slot>
    private(set) var capacity: Int
    private(set) var count = 0
    /// Bytes held in entry blocks (as requested from malloc), for footprint reports.
    private(set) var blockBytes = 0
    let seed: UInt64

    init(initialCapacity: Int = 16, seed: UInt64 = ByteHash.processSeed) {
        var cap = 16
        while cap < initialCapacity { cap <<= 1 }
        capacity = cap
        slots = .allocate(capacity: cap)
        slots.initialize(repeating: Slot(hash: 0, block: nil), count: cap)
        self.seed = seed
    }

    deinit {
        for i in 0..<capacity where slots[i].block != nil { free(slots[i].block) }
        slots.deallocate()
    }

    /// Bytes this table holds: its slot array plus every entry block.
    var footprintBytes: Int { capacity * MemoryLayout<Slot>.stride + blockBytes }

    @inline(__always) func hash(_ key: UnsafeRawBufferPointer) -> UInt64 { ByteHash.hash(key, seed: seed) }

    @inline(__always) static func payloadOffset(keyLength: Int) -> Int { 8 + ((keyLength + 7) & ~7) }

    /// The slot index holding `key`, or nil.
    @inline(__always) func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        let mask = capacity - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while let block = slots[i].block {
            if slots[i].hash == hash, block.load(as: UInt32.self) == UInt32(key.count),
               ByteKeyedTable.equal(UnsafeRawPointer(block + 8), key)
            {
                return i
            }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Compares a stored key with `key` (same length known), eight bytes at a time.
    @inline(__always) static func equal(_ stored: UnsafeRawPointer, _ key: UnsafeRawBufferPointer) -> Bool {
        let n = key.count
        guard n > 0, let p = key.baseAddress else { return true }
        var i = 0
        while i + 8 <= n {
            if stored.loadUnaligned(fromByteOffset: i, as: UInt64.self) != p.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < n {
            if stored.load(fromByteOffset: i, as: UInt8.self) != p.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }

    /// Inserts a key known to be absent, with `payloadBytes` of uninitialised
    /// payload; grows first when the table is at its load limit. Returns the slot.
    mutating func insert(_ key: UnsafeRawBufferPointer, hash: UInt64, payloadBytes: Int) -> Int {
        if atLoadLimit { grow() }
        let offset = ByteKeyedTable.payloadOffset(keyLength: key.count)
        let size = offset + payloadBytes
        let block = malloc(size)!
        block.storeBytes(of: UInt32(key.count), as: UInt32.self)
        block.storeBytes(of: 0, toByteOffset: 4, as: UInt32.self)
        if key.count > 0 { memcpy(block + 8, key.baseAddress!, key.count) }
        blockBytes += size
        let mask = capacity - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i].block != nil { i = (i + 1) & mask }
        slots[i] = Slot(hash: hash, block: block)
        count += 1
        return i
    }

    var atLoadLimit: Bool { (count + 1) * 4 > capacity * 3 }

    @inline(__always) func block(at slot: Int) -> UnsafeMutableRawPointer { slots[slot].block! }

    @inline(__always) func payload(at slot: Int) -> UnsafeMutableRawPointer {
        let block = slots[slot].block!
        return block + ByteKeyedTable.payloadOffset(keyLength: Int(block.load(as: UInt32.self)))
    }

    func key(at slot: Int) -> UnsafeRawBufferPointer {
        let block = slots[slot].block!
        return UnsafeRawBufferPointer(start: block + 8, count: Int(block.load(as: UInt32.self)))
    }

    /// The 32-bit word the owner may use freely in each block header.
    @inline(__always) func ownerWord(at slot: Int) -> UInt32 { slots[slot].block!.load(fromByteOffset: 4, as: UInt32.self) }
    @inline(__always) func setOwnerWord(_ value: UInt32, at slot: Int) {
        slots[slot].block!.storeBytes(of: value, toByteOffset: 4, as: UInt32.self)
    }

    /// Reallocates the entry's block for a payload of `oldBytes` → `newBytes`,
    /// keeping its contents; returns the new payload address.
    mutating func resizePayload(at slot: Int, from oldBytes: Int, to newBytes: Int) -> UnsafeMutableRawPointer {
        let block = slots[slot].block!
        let offset = ByteKeyedTable.payloadOffset(keyLength: Int(block.load(as: UInt32.self)))
        let moved = realloc(block, offset + newBytes)!
        blockBytes += newBytes - oldBytes
        slots[slot].block = moved
        return moved + offset
    }

    /// Removes the entry at `slot`, freeing its block. `payloadBytes` is its
    /// current payload size, for the footprint count. Entries after it may move
    /// back into `slot`: a caller sweeping slots must look at `slot` again.
    mutating func remove(at slot: Int, payloadBytes: Int) {
        let block = slots[slot].block!
        blockBytes -= ByteKeyedTable.payloadOffset(keyLength: Int(block.load(as: UInt32.self))) + payloadBytes
        free(block)
        count -= 1
        let mask = capacity - 1
        var hole = slot
        var i = (slot + 1) & mask
        while slots[i].block != nil {
            let home = Int(truncatingIfNeeded: slots[i].hash) & mask
            // Move the entry back when the hole lies on its probe path (home … i).
            let distanceToHole = (hole - home) & mask
            let distanceToEntry = (i - home) & mask
            if distanceToHole < distanceToEntry {
                slots[hole] = slots[i]
                hole = i
            }
            i = (i + 1) & mask
        }
        slots[hole] = Slot(hash: 0, block: nil)
    }

    mutating func removeAll() {
        for i in 0..<capacity where slots[i].block != nil {
            free(slots[i].block)
            slots[i] = Slot(hash: 0, block: nil)
        }
        count = 0
        blockBytes = 0
    }

    mutating func grow() {
        let old = slots
        let oldCapacity = capacity
        capacity = oldCapacity * 2
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Slot(hash: 0, block: nil), count: capacity)
        let mask = capacity - 1
        for j in 0..<oldCapacity where old[j].block != nil {
            var i = Int(truncatingIfNeeded: old[j].hash) & mask
            while slots[i].block != nil { i = (i + 1) & mask }
            slots[i] = old[j]
        }
        old.deallocate()
    }
}

/// A fast seeded hash over bytes: eight bytes per step, multiply-xorshift mixing.
/// The per-process random seed keeps an outsider from precomputing collisions.
enum ByteHash {
    static let processSeed: UInt64 = UInt64.random(in: .min ... .max)

    @inline(__always) static func hash(_ key: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let n = key.count
        var h = seed ^ (UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15)
        guard let p = key.baseAddress, n > 0 else { return mix(h) }
        if n >= 8 {
            var i = 0
            while i + 8 < n {
                h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                h ^= h >> 32
                i += 8
            }
            // The last eight bytes, overlapping the previous word when n is not a multiple of 8.
            h = (h ^ p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)) &* 0xC4CE_B9FE_1A85_EC53
        } else if n >= 4 {
            let low = UInt64(p.loadUnaligned(as: UInt32.self))
            let high = UInt64(p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
            h = (h ^ (low | high << 32)) &* 0xC4CE_B9FE_1A85_EC53
        } else {
            var tail = UInt64(p.load(as: UInt8.self))
            tail |= UInt64(p.load(fromByteOffset: n / 2, as: UInt8.self)) << 8
            tail |= UInt64(p.load(fromByteOffset: n - 1, as: UInt8.self)) << 16
            h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        }
        return mix(h)
    }

    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return h
    }
}
