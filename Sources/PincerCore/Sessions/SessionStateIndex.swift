// Session state and owner by key bytes, for the one question plugins poll:
// "is it streaming?". Kept beside the session table so the answer needs
// neither the engine lock nor a Swift String built from the caller's C string,
// and readers take no lock at all: a lookup is a hash, a probe and a compare.
//
// How readers stay safe without a lock (a sequence lock over type-stable memory):
// - An entry's state and owner share one word, so a state change is a single
//   atomic store that readers see whole; it needs nothing else.
// - Changes to the slots (insert, remove, grow) are made by one writer at a
//   time inside an odd `sequence`; a lookup that saw the sequence change
//   retries, and after a few tries waits for the writer's lock instead.
// - A reader may still be looking at memory a writer is changing, so nothing a
//   reader can reach is ever freed while the index lives: removed entries go to
//   a free list for reuse, and a slot array replaced by growth is retired, not
//   freed. That costs at most the peak number of sessions × 144 bytes, plus
//   retired slot arrays smaller in total than the live one.
// - Every word readers load is loaded atomically (relaxed); a grown slot array
//   is published with release and read with acquire, so a reader that reaches
//   it sees it filled; a reader takes an entry from the one slot value it
//   matched and never loads a slot twice (a writer may empty it in between).
// The owner is the engine's number for the caller that created the session.
//
// A plugin polls one session at a time, so the host keeps, per plugin, the entry its
// last lookup found (a LookupHint) and tries it first: the key is measured only as far
// as that entry's length and compared with it, without hashing or probing. Any address
// of an entry is a safe guess, since the compare decides: entries stay mapped, a removed
// one gets a length of 0, which no key has, and reusing an entry happens inside an odd
// sequence like any change to the slots. The caller's string is never read past its NUL:
// reading on to a guessed length would be caught by memory tagging, Valgrind and the
// fuzzer's ASan (it was, reading at most a word past a shorter key's end).
//
// Keys are hashed by their last eight bytes only: every session key is made by the
// host (SessionKeys) and ends in random hex digits, so those bytes, seeded, spread
// keys as well as the whole key would, at one multiply instead of one per word. A
// caller can choose what it asks about, never what is stored, so it cannot crowd a
// probe chain.

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class SessionStateIndex: Sendable {
    /// The longest key kept: sessions.h's PINCER_SESSION_KEY_CAPACITY less its NUL, the longest a C
    /// caller can ask about. Longer keys (the operator's) are not indexed; lookup answers nil for them.
    static let maxKeyBytes = 127

    /// Even while no change to the slots is under way; lookups retry when it moved.
    private let sequence = Atomic<UInt>(0)
    /// The live slot array, packed (see Slots), replaced whole when it grows.
    private let liveSlots: Atomic<UInt>
    private let writer: Mutex<Writer>
    private let seed = ByteHash.processSeed

    init() {
        let slots = Slots.allocate(capacity: 64)
        liveSlots = Atomic(slots.packed)
        writer = Mutex(Writer(slots: slots))
    }

    /// Sets the state and owner of the session with `key`, adding it when new.
    func set(_ key: String, _ state: SessionState, owner: UInt32) {
        var key = key
        key.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            guard bytes.count <= SessionStateIndex.maxKeyBytes else { return }
            let hash = SessionStateIndex.hash(bytes, seed: seed)
            let stateWord = Entry.stateWord(keyLength: bytes.count, streaming: state == .streaming, owner: owner)
            writer.withLock { writer in
                if let entry = writer.slots.find(Probe(bytes, hash: hash))?.entry {
                    entry.words[0].store(stateWord, ordering: .relaxed)
                    return
                }
                // Filled inside the change: the entry may be a removed one that a hint still names.
                // Released: a reader that sees the new array sees it filled.
                change {
                    let entry = writer.newEntry()
                    entry.fill(key: bytes, hash: hash, stateWord: stateWord)
                    writer.insert(entry, publish: { liveSlots.store($0.packed, ordering: .releasing) })
                }
            }
        }
    }

    func remove(_ key: String) {
        var key = key
        key.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            guard bytes.count <= SessionStateIndex.maxKeyBytes else { return }
            let hash = SessionStateIndex.hash(bytes, seed: seed)
            writer.withLock { writer in
                guard let slot = writer.slots.find(Probe(bytes, hash: hash))?.slot else { return }
                change { writer.remove(at: slot) }
            }
        }
    }

    /// The session's streaming flag and owner number, or nil for an unknown key (or one
    /// longer than maxKeyBytes). Lock-free; safe from any thread.
    @inline(__always) func lookup(_ key: UnsafeRawBufferPointer) -> (streaming: Bool, owner: UInt32)? {
        guard key.count <= SessionStateIndex.maxKeyBytes, let found = find(key) else { return nil }
        return Entry.decode(found.word)
    }

    /// lookup(_:) for a NUL-terminated key, trying first the entry `hint` names and naming in
    /// it the entry found otherwise (see the top of the file). Lock-free; safe from any
    /// thread, and from several sharing one hint.
    @inline(__always) func lookup(cString key: UnsafePointer<CChar>, hint: borrowing LookupHint) -> (streaming: Bool, owner: UInt32)? {
        let guess = hint.entry.load(ordering: .relaxed)
        if guess != 0, let word = stateWord(of: Entry(words: UnsafeMutablePointer(bitPattern: guess).unsafelyUnwrapped), ifItHolds: key) {
            return Entry.decode(word)
        }
        return lookupNamingEntry(cString: key, hint: hint)
    }

    /// lookup(cString:hint:) past a wrong guess, kept out of line so the guess's path stays small.
    @inline(never) private func lookupNamingEntry(cString key: UnsafePointer<CChar>, hint: borrowing LookupHint) -> (streaming: Bool, owner: UInt32)? {
        let length = strnlen(key, SessionStateIndex.maxKeyBytes + 1)
        guard length <= SessionStateIndex.maxKeyBytes, let found = find(UnsafeRawBufferPointer(start: key, count: length)) else { return nil }
        hint.entry.store(UInt(bitPattern: found.entry.words), ordering: .relaxed)
        return Entry.decode(found.word)
    }

    /// The entry holding `key` (at most maxKeyBytes) and its state word, read between two
    /// equal, even sequence values; after a few changes in a row, under the writer's lock.
    @inline(__always) private func find(_ key: UnsafeRawBufferPointer) -> (entry: Entry, word: UInt64)? {
        let probe = Probe(key, hash: SessionStateIndex.hash(key, seed: seed))
        for _ in 0..<4 {
            let before = sequence.load(ordering: .acquiring)
            if before & 1 == 0 {
                let found = Slots(packed: liveSlots.load(ordering: .acquiring)).find(probe).map { ($0.entry, $0.entry.words[0].load(ordering: .relaxed)) }
                atomicMemoryFence(ordering: .acquiring)
                if sequence.load(ordering: .relaxed) == before { return found }
            }
        }
        // A writer keeps changing the slots: wait for it rather than spin.
        return writer.withLock { writer in writer.slots.find(probe).map { ($0.entry, $0.entry.words[0].load(ordering: .relaxed)) } }
    }

    /// The entry's state word when it is live and holds exactly the NUL-terminated `key`: the
    /// key measured only as far as the entry's length and one byte, then compared word by word
    /// (Probe's compare). Nil when it does not, or when a change to the slots ran meanwhile.
    @inline(__always) private func stateWord(of entry: Entry, ifItHolds key: UnsafePointer<CChar>) -> UInt64? {
        let before = sequence.load(ordering: .acquiring)
        let word = entry.words[0].load(ordering: .relaxed)
        let length = Int(word & 0xFF)
        // A removed entry's word is 0: its length (no key is empty) tells it apart.
        guard before & 1 == 0, length != 0, strnlen(key, length &+ 1) == length,
              Probe(UnsafeRawBufferPointer(start: key, count: length), hash: 0).matches(entry)  // matching needs no hash
        else { return nil }
        atomicMemoryFence(ordering: .acquiring)
        return sequence.load(ordering: .relaxed) == before ? word : nil
    }

    /// A key's hash: its length and last eight bytes, seeded (see the top of the file); a key
    /// shorter than eight bytes (none the host makes) is hashed whole.
    @inline(__always) static func hash(_ key: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        guard key.count >= 8, let p = key.baseAddress else { return ByteHash.hash(key, seed: seed) }
        let tail = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: key.count - 8, as: UInt64.self))
        return ByteHash.fold(tail ^ seed, UInt64(key.count) ^ 0x9E37_79B9_7F4A_7C15 ^ (seed >> 7))
    }

    /// Runs a change to the slots (under the writer lock) inside an odd sequence.
    private func change(_ body: () -> Void) {
        let value = sequence.load(ordering: .relaxed)
        sequence.store(value &+ 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        body()
        sequence.store(value &+ 2, ordering: .releasing)
    }
}

/// Where a caller's last lookup found its key, tried first by lookup(cString:hint:). One per
/// plugin; it only ever holds the address of an entry of the index it is used with, or 0.
package struct LookupHint: ~Copyable, Sendable {
    let entry = Atomic<UInt>(0)
    package init() {}
}

/// One session's entry, 18 words: [key length | streaming << 8 | owner << 32][the key's hash][key, zero padded
/// to 16 words]. The hash is kept for the writer, which moves entries without hashing their keys again.
private struct Entry {
    static let words = 18
    static let keyWords = 16
    let words: UnsafeMutablePointer<Atomic<UInt64>>

    static func stateWord(keyLength: Int, streaming: Bool, owner: UInt32) -> UInt64 {
        UInt64(keyLength) | (streaming ? 1 << 8 : 0) | UInt64(owner) << 32
    }

    static func decode(_ word: UInt64) -> (streaming: Bool, owner: UInt32) {
        (word & (1 << 8) != 0, UInt32(truncatingIfNeeded: word >> 32))
    }

    /// Writes the key and header of an entry no slot leads to yet.
    func fill(key: UnsafeRawBufferPointer, hash: UInt64, stateWord: UInt64) {
        for i in 0..<Entry.keyWords { words[2 + i].store(Entry.keyWord(key, i), ordering: .relaxed) }
        words[1].store(hash, ordering: .relaxed)
        words[0].store(stateWord, ordering: .relaxed)
    }

    /// The hash `fill` stored (read by the writer only).
    var hash: UInt64 { words[1].load(ordering: .relaxed) }

    /// The key's `i`th eight bytes, little-endian, zero past its end.
    @inline(__always) static func keyWord(_ key: UnsafeRawBufferPointer, _ i: Int) -> UInt64 {
        let n = key.count, start = i * 8
        guard start < n, let p = key.baseAddress else { return 0 }
        if start + 8 <= n { return UInt64(littleEndian: p.loadUnaligned(fromByteOffset: start, as: UInt64.self)) }
        let tail = n - start
        if n >= 8 {
            // The eight bytes ending at the key's end, shifted so only this word's bytes remain.
            return UInt64(littleEndian: p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)) >> (8 * (8 - tail))
        }
        var word: UInt64 = 0
        for j in 0..<tail { word |= UInt64(p.load(fromByteOffset: start + j, as: UInt8.self)) << (8 * j) }
        return word
    }
}

/// A key being looked for, prepared once: its hash and its words as entries store them.
private struct Probe {
    let key: UnsafeRawBufferPointer
    let hash: UInt64
    /// Whole words of the key, and the word after them (its last bytes, zero padded; 0 when none).
    let fullWords: Int
    let tailWord: UInt64

    @inline(__always) init(_ key: UnsafeRawBufferPointer, hash: UInt64) {
        self.key = key
        self.hash = hash
        fullWords = key.count / 8
        tailWord = Entry.keyWord(key, fullWords)
    }

    var tag: UInt64 { hash >> 48 }

    /// Whether the entry holds this key: its length, its whole words, then the padded last word
    /// (a key is at most 127 bytes, so that word always exists in an entry).
    @inline(__always) func matches(_ entry: Entry) -> Bool {
        guard entry.words[0].load(ordering: .relaxed) & 0xFF == UInt64(key.count) else { return false }
        var j = 0
        while j < fullWords {
            let word = UInt64(littleEndian: key.baseAddress.unsafelyUnwrapped.loadUnaligned(fromByteOffset: j &* 8, as: UInt64.self))
            if entry.words[2 &+ j].load(ordering: .relaxed) != word { return false }
            j &+= 1
        }
        return entry.words[2 &+ fullWords].load(ordering: .relaxed) == tailWord
    }
}

/// A slot array: one word per slot, 0 when empty, else the top 16 bits of the key's hash over
/// the entry's 48-bit address. Readers reach it through one word, `packed`: its address with
/// log2 of its capacity in the top 16 bits, so they always see a mask and slots of one array.
private struct Slots {
    let base: UnsafeMutablePointer<Atomic<UInt64>>
    let mask: Int
    private static let addressMask: UInt64 = (1 << 48) - 1

    static func allocate(capacity: Int) -> Slots {
        let base = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: capacity)
        for i in 0..<capacity { (base + i).initialize(to: Atomic(0)) }
        return Slots(base: base, mask: capacity - 1)
    }

    @inline(__always) init(base: UnsafeMutablePointer<Atomic<UInt64>>, mask: Int) {
        self.base = base
        self.mask = mask
    }

    @inline(__always) init(packed: UInt) {
        base = UnsafeMutablePointer(bitPattern: packed & UInt(Slots.addressMask)).unsafelyUnwrapped
        mask = (1 &<< Int(packed >> 48)) &- 1
    }

    var packed: UInt {
        precondition(UInt64(UInt(bitPattern: base)) & ~Slots.addressMask == 0, "a slot array above 2^48")
        return UInt(bitPattern: base) | UInt(capacity.trailingZeroBitCount) << 48
    }

    func deallocate() {
        base.deinitialize(count: capacity)
        base.deallocate()
    }

    var capacity: Int { mask + 1 }

    @inline(__always) func load(_ i: Int) -> UInt64 { base[i].load(ordering: .relaxed) }
    @inline(__always) func store(_ value: UInt64, at i: Int) { base[i].store(value, ordering: .relaxed) }

    static func value(_ entry: Entry, hash: UInt64) -> UInt64 {
        let address = UInt64(UInt(bitPattern: entry.words))
        precondition(address & ~addressMask == 0, "an entry address above 2^48; SessionStateIndex packs 48-bit addresses")
        return (hash >> 48) << 48 | address
    }

    static func entry(_ value: UInt64) -> Entry {
        Entry(words: UnsafeMutablePointer(bitPattern: UInt(value & addressMask))!)
    }

    /// The slot holding the probe's key and its entry, or nil. Bounded by the capacity, so a
    /// reader racing a writer cannot walk forever (its answer is then discarded by the sequence
    /// check). The entry comes from the slot value the match was made on: a reader must never
    /// load the slot again, as a writer may have emptied it since.
    @inline(__always) func find(_ probe: Probe) -> (slot: Int, entry: Entry)? {
        let mask = self.mask
        var i = Int(truncatingIfNeeded: probe.hash) & mask
        for _ in 0...mask {
            let value = load(i)
            if value == 0 { return nil }
            if value >> 48 == probe.tag {
                let entry = Slots.entry(value)
                if probe.matches(entry) { return (i, entry) }
            }
            i = (i &+ 1) & mask
        }
        return nil
    }

    func emptySlot(for hash: UInt64) -> Int {
        var i = Int(truncatingIfNeeded: hash) & mask
        while load(i) != 0 { i = (i + 1) & mask }
        return i
    }
}

/// What only the writer (under the lock) touches: the live slots, the entries' storage and
/// the retired arrays. Freed together with the index.
private struct Writer: ~Copyable, @unchecked Sendable { // @unchecked: raw pointers into storage only it owns, inside a Mutex
    var slots: Slots
    var count = 0
    var retired: [Slots] = []
    var chunks: [UnsafeMutablePointer<Atomic<UInt64>>] = []
    var freeEntries: [Entry] = []
    static let chunkEntries = 64

    init(slots: Slots) { self.slots = slots }

    deinit {
        slots.deallocate()
        for old in retired { old.deallocate() }
        for chunk in chunks {
            chunk.deinitialize(count: Writer.chunkEntries * Entry.words)
            chunk.deallocate()
        }
    }

    mutating func newEntry() -> Entry {
        if freeEntries.isEmpty {
            let chunk = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: Writer.chunkEntries * Entry.words)
            for i in 0..<Writer.chunkEntries * Entry.words { (chunk + i).initialize(to: Atomic(0)) }
            chunks.append(chunk)
            for i in (0..<Writer.chunkEntries).reversed() { freeEntries.append(Entry(words: chunk + i * Entry.words)) }
        }
        return freeEntries.removeLast()
    }

    /// Adds `entry` (filled, absent from the slots), growing first at 3/4 load; `publish` makes a new array live.
    mutating func insert(_ entry: Entry, publish: (Slots) -> Void) {
        if (count + 1) * 4 > slots.capacity * 3 {
            let grown = Slots.allocate(capacity: slots.capacity * 2)
            for i in 0..<slots.capacity {
                let value = slots.load(i)
                guard value != 0 else { continue }
                grown.store(value, at: grown.emptySlot(for: Slots.entry(value).hash))
            }
            retired.append(slots)
            slots = grown
            publish(grown)
        }
        slots.store(Slots.value(entry, hash: entry.hash), at: slots.emptySlot(for: entry.hash))
        count += 1
    }

    /// Removes the entry at `slot` with backward-shift deletion (no tombstones); the entry is kept for reuse.
    mutating func remove(at slot: Int) {
        let removed = Slots.entry(slots.load(slot))
        removed.words[0].store(0, ordering: .relaxed)  // a length no hint's guess accepts
        freeEntries.append(removed)
        slots.store(0, at: slot)
        count -= 1
        let mask = slots.mask
        var hole = slot
        var i = (slot + 1) & mask
        while slots.load(i) != 0 {
            let home = Int(truncatingIfNeeded: Slots.entry(slots.load(i)).hash) & mask
            // Move the entry back when the hole lies on its probe path (home … i).
            if (hole - home) & mask < (i - home) & mask {
                slots.store(slots.load(i), at: hole)
                slots.store(0, at: i)
                hole = i
            }
            i = (i + 1) & mask
        }
    }
}
