// An open-addressing hash table keyed by raw byte strings, for the hot paths
// that must not build a Swift String per call (rate-limit keys, session-state
// lookups from C). Each entry is one malloc'd block:
//
//   [key length: UInt32][owner word: UInt32][key bytes, padded to 8][payload]
//
// Each slot is 8 bytes: the block's address (48 bits, the user address space
// of x86-64 and arm64 Linux) and the top 16 bits of the key's hash as a tag,
// so most mismatches are rejected without touching the block. Where the full
// hash is needed (deletion, growth) it is computed again from the stored key.
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

// @unchecked: its pointers lead only into its own storage, and it lives in a Mutex
// (noncopyable, so no second owner can exist).
struct ByteKeyedTable: ~Copyable, @unchecked Sendable {
    /// A slot: 0 when empty, else tag << 48 | block address.
    typealias Slot = UInt64

    private(set) var slots: UnsafeMutablePointer<Slot>
    private(set) var capacity: Int
    private(set) var count = 0
    /// Bytes held in entry blocks (as requested from malloc), for footprint reports.
    private(set) var blockBytes = 0
    let seed: UInt64
    private static let addressMask: UInt64 = (1 << 48) - 1

    init(initialCapacity: Int = 16, seed: UInt64 = ByteHash.processSeed) {
        var cap = 16
        while cap < initialCapacity { cap <<= 1 }
        capacity = cap
        slots = .allocate(capacity: cap)
        slots.initialize(repeating: 0, count: cap)
        self.seed = seed
    }

    deinit {
        for i in 0..<capacity where slots[i] != 0 { free(ByteKeyedTable.address(slots[i])) }
        slots.deallocate()
    }

    /// Bytes this table holds: its slot array plus every entry block.
    var footprintBytes: Int { capacity * MemoryLayout<Slot>.stride + blockBytes }

    @inline(__always) func hash(_ key: UnsafeRawBufferPointer) -> UInt64 { ByteHash.hash(key, seed: seed) }

    @inline(__always) static func payloadOffset(keyLength: Int) -> Int { 8 + ((keyLength + 7) & ~7) }

    @inline(__always) static func address(_ slot: Slot) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: UInt(slot & addressMask))!
    }

    @inline(__always) static func tag(_ hash: UInt64) -> UInt64 { hash >> 48 }

    @inline(__always) static func slot(_ block: UnsafeMutableRawPointer, hash: UInt64) -> Slot {
        let address = UInt64(UInt(bitPattern: block))
        precondition(address & ~addressMask == 0, "malloc returned an address above 2^48; ByteKeyedTable packs 48-bit addresses")
        return tag(hash) << 48 | address
    }

    /// Whether slot `i` holds an entry.
    @inline(__always) func isOccupied(_ i: Int) -> Bool { slots[i] != 0 }

    /// The slot index holding `key`, or nil.
    @inline(__always) func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        let mask = capacity - 1
        let tag = ByteKeyedTable.tag(hash)
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] != 0 {
            if slots[i] >> 48 == tag {
                let block = ByteKeyedTable.address(slots[i])
                if block.load(as: UInt32.self) == UInt32(key.count), ByteKeyedTable.equal(UnsafeRawPointer(block + 8), key) {
                    return i
                }
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
        let i = emptySlot(for: hash)
        slots[i] = ByteKeyedTable.slot(block, hash: hash)
        count += 1
        return i
    }

    private func emptySlot(for hash: UInt64) -> Int {
        let mask = capacity - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        return i
    }

    var atLoadLimit: Bool { (count + 1) * 4 > capacity * 3 }

    @inline(__always) func block(at slot: Int) -> UnsafeMutableRawPointer { ByteKeyedTable.address(slots[slot]) }

    @inline(__always) func payload(at slot: Int) -> UnsafeMutableRawPointer {
        let block = ByteKeyedTable.address(slots[slot])
        return block + ByteKeyedTable.payloadOffset(keyLength: Int(block.load(as: UInt32.self)))
    }

    func key(at slot: Int) -> UnsafeRawBufferPointer {
        let block = ByteKeyedTable.address(slots[slot])
        return UnsafeRawBufferPointer(start: block + 8, count: Int(block.load(as: UInt32.self)))
    }

    /// The full hash of the entry at `slot`, from its stored key.
    private func storedHash(at slot: Int) -> UInt64 { hash(key(at: slot)) }

    /// The 32-bit word the owner may use freely in each block header.
    @inline(__always) func ownerWord(at slot: Int) -> UInt32 { block(at: slot).load(fromByteOffset: 4, as: UInt32.self) }
    @inline(__always) func setOwnerWord(_ value: UInt32, at slot: Int) {
        block(at: slot).storeBytes(of: value, toByteOffset: 4, as: UInt32.self)
    }

    /// Reallocates the entry's block for a payload of `oldBytes` → `newBytes`,
    /// keeping its contents; returns the new payload address.
    mutating func resizePayload(at slot: Int, from oldBytes: Int, to newBytes: Int) -> UnsafeMutableRawPointer {
        let block = self.block(at: slot)
        let offset = ByteKeyedTable.payloadOffset(keyLength: Int(block.load(as: UInt32.self)))
        let moved = realloc(block, offset + newBytes)!
        blockBytes += newBytes - oldBytes
        slots[slot] = ByteKeyedTable.slot(moved, hash: (slots[slot] >> 48) << 48)
        return moved + offset
    }

    /// Removes the entry at `slot`, freeing its block. `payloadBytes` is its
    /// current payload size, for the footprint count. Entries after it may move
    /// back into `slot`: a caller sweeping slots must look at `slot` again.
    mutating func remove(at slot: Int, payloadBytes: Int) {
        let block = self.block(at: slot)
        blockBytes -= ByteKeyedTable.payloadOffset(keyLength: Int(block.load(as: UInt32.self))) + payloadBytes
        free(block)
        slots[slot] = 0
        count -= 1
        let mask = capacity - 1
        var hole = slot
        var i = (slot + 1) & mask
        while slots[i] != 0 {
            let home = Int(truncatingIfNeeded: storedHash(at: i)) & mask
            // Move the entry back when the hole lies on its probe path (home … i).
            if (hole - home) & mask < (i - home) & mask {
                slots[hole] = slots[i]
                slots[i] = 0
                hole = i
            }
            i = (i + 1) & mask
        }
    }

    mutating func grow() {
        let old = slots
        let oldCapacity = capacity
        capacity = oldCapacity * 2
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        for j in 0..<oldCapacity where old[j] != 0 {
            let block = ByteKeyedTable.address(old[j])
            let h = hash(UnsafeRawBufferPointer(start: block + 8, count: Int(block.load(as: UInt32.self))))
            slots[emptySlot(for: h)] = old[j]
        }
        old.deallocate()
    }
}

/// A fast seeded hash over bytes, in the manner of wyhash: pairs of words are
/// folded by a full-width multiply (high half xor low half), two independent
/// lanes per 32 bytes, so a 40-byte key costs three multiplies in a row rather
/// than one per word. The per-process random seed is mixed into both operands of
/// every fold, so an outsider can neither precompute collisions nor pick a word
/// that zeroes a fold.
enum ByteHash {
    static let processSeed: UInt64 = UInt64.random(in: .min ... .max)

    @inline(__always) static func hash(_ key: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let n = key.count
        let secret1 = seed ^ 0xA076_1D64_78BD_642F, secret2 = seed ^ 0xE703_7ED1_A0B4_28DB
        var a: UInt64 = 0, b: UInt64 = 0, lane = seed
        if let p = key.baseAddress, n > 0 {
            @inline(__always) func word(_ offset: Int) -> UInt64 { UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
            if n <= 16 {
                if n >= 8 {
                    (a, b) = (word(0), word(n - 8))
                } else if n >= 4 {
                    a = UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
                    b = UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)))
                } else {
                    a = UInt64(p.load(as: UInt8.self)) << 16 | UInt64(p.load(fromByteOffset: n / 2, as: UInt8.self)) << 8
                        | UInt64(p.load(fromByteOffset: n - 1, as: UInt8.self))
                }
            } else {
                var i = 0, lane2 = seed ^ 0x8EBC_6AF0_9C88_C6E3
                while i + 32 < n {
                    lane = fold(word(i) ^ secret1, word(i + 8) ^ lane)
                    lane2 = fold(word(i + 16) ^ secret2, word(i + 24) ^ lane2)
                    i += 32
                }
                if i + 16 < n { lane = fold(word(i) ^ secret1, word(i + 8) ^ lane) }
                lane ^= lane2
                // The last sixteen bytes, overlapping what the loop read when n is not a multiple of 16.
                (a, b) = (word(n - 16), word(n - 8))
            }
        }
        return fold(secret2 ^ UInt64(truncatingIfNeeded: n), fold(a ^ secret2, b ^ lane))
    }

    /// The 128-bit product of two words, its halves xor-ed together.
    @inline(__always) static func fold(_ x: UInt64, _ y: UInt64) -> UInt64 {
        let (high, low) = x.multipliedFullWidth(by: y)
        return high ^ low
    }
}
