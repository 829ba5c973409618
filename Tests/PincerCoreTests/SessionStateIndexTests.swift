// The lock-free session state index: answers match what was set, whatever a lookup
// hint guesses, and readers on other threads never get a wrong answer, nor miss a key
// that stays put, while a writer removes and re-adds the keys beside it and flips
// their states.

import Foundation
@testable import PincerCore
import Synchronization
import Testing

@Suite struct SessionStateIndexTests {
    private final class Counters: Sendable {
        let stop = Atomic<Bool>(false), phase = Atomic<Int>(0)
        let wrong = Atomic<Int>(0), missed = Atomic<Int>(0), checked = Atomic<Int>(0)
    }

    private static func lookup(_ index: SessionStateIndex, _ key: String) -> (streaming: Bool, owner: UInt32)? {
        var key = key
        return key.withUTF8 { index.lookup(UnsafeRawBufferPointer($0)) }
    }

    /// lookup(cString:hint:) with the key copied `offset` bytes past an aligned word, its NUL's word
    /// ending a page that an unreadable one follows: a read past that word would crash the test.
    private static func lookup(_ index: SessionStateIndex, _ key: String, hint: borrowing LookupHint, offset: Int = 0)
        -> (streaming: Bool, owner: UInt32)?
    {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard let pages = mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), pages != MAP_FAILED,
              mprotect(pages + page, page, PROT_NONE) == 0 else { fatalError("cannot map a guarded page") }
        defer { munmap(pages, 2 * page) }
        // Where the key's NUL word ends the page: the key starts `offset` bytes into an aligned word.
        let bytes = Array(key.utf8) + [0]
        let end = (offset + bytes.count + 7) & ~7
        let start = pages + page - end + offset
        bytes.withUnsafeBytes { start.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return index.lookup(cString: start.assumingMemoryBound(to: CChar.self), hint: hint)
    }

    /// The hint only says where to look first: whichever entry it names, even a removed or
    /// reused one, a key is answered as lookup(_:) answers it. The keys are all prefixes of
    /// one another, so only their lengths and ends tell them apart; each is asked for at every
    /// offset from an aligned word, its end against an unreadable page.
    @Test func aHintNeverChangesTheAnswer() {
        let index = SessionStateIndex()
        let keys = (1...SessionStateIndex.maxKeyBytes).map { String(repeating: "k", count: $0) }
        for (i, key) in keys.enumerated() { index.set(key, i % 2 == 0 ? .streaming : .idle, owner: UInt32(i)) }
        let hint = LookupHint()
        for guess in [0, 6, 7, 8, 15, 63, 126] {
            for (i, key) in keys.enumerated() {
                let offset = i % 8
                #expect(Self.lookup(index, keys[guess], hint: hint, offset: 7 - offset)?.owner == UInt32(guess))
                let found = Self.lookup(index, key, hint: hint, offset: offset)
                #expect(found?.owner == UInt32(i) && found?.streaming == (i % 2 == 0), "key of \(i + 1) bytes at offset \(offset), guessing \(guess + 1)")
            }
            #expect(Self.lookup(index, keys[guess] + "x", hint: hint) == nil)
            #expect(Self.lookup(index, String(repeating: "k", count: SessionStateIndex.maxKeyBytes + 1), hint: hint) == nil)
        }
        // Removed while the hint names it: gone, and its entry (length 0 now) is not the empty
        // key's; reused by another key: still gone.
        #expect(Self.lookup(index, keys[40], hint: hint)?.owner == 40)
        index.remove(keys[40])
        #expect(Self.lookup(index, "", hint: hint) == nil)
        #expect(Self.lookup(index, keys[40], hint: hint) == nil)
        #expect(Self.lookup(index, keys[40], hint: hint) == nil)
        index.set("reused", .streaming, owner: 999)
        #expect(Self.lookup(index, keys[40], hint: hint) == nil)
        #expect(Self.lookup(index, "reused", hint: hint)?.owner == 999)
        #expect(Self.lookup(index, "reused", hint: hint)?.owner == 999)
        #expect(Self.lookup(index, keys[40], hint: hint) == nil)
        #expect(Self.lookup(index, keys[41], hint: hint)?.owner == 41)
    }

    @Test func answersWhatWasSetForKeysOfEveryLength() {
        let index = SessionStateIndex()
        // Lengths 0...127 cover every tail shape of the word compare and every branch of the hash.
        let keys = (0...SessionStateIndex.maxKeyBytes).map { String(repeating: "k", count: $0) }
        for (i, key) in keys.enumerated() { index.set(key, i % 2 == 0 ? .streaming : .idle, owner: UInt32(i)) }
        for (i, key) in keys.enumerated() {
            let found = Self.lookup(index, key)
            #expect(found?.streaming == (i % 2 == 0) && found?.owner == UInt32(i), "key of \(i) bytes")
        }
        // A key differing only in its last byte, or only before its last eight bytes (the same
        // hash, so the full compare decides), or one byte longer than any kept, is not found.
        #expect(Self.lookup(index, String(repeating: "k", count: 9) + "x") == nil)
        for length in [9, 16, 17, 40, 127] {
            #expect(Self.lookup(index, "x" + String(repeating: "k", count: length - 1)) == nil, "\(length) bytes")
        }
        #expect(Self.lookup(index, String(repeating: "k", count: SessionStateIndex.maxKeyBytes + 1)) == nil)
        for key in keys where key.count % 3 == 0 { index.remove(key) }
        for (i, key) in keys.enumerated() { #expect((Self.lookup(index, key) == nil) == (i % 3 == 0), "key of \(i) bytes") }
    }

    /// Two groups of keys take turns: in each round the writer removes and re-adds every key of
    /// one group (shifting the other group's keys back along their probe chains) while the other
    /// group stays put. Readers must always find a key of the group that stays put, never see a
    /// wrong owner (each key's owner is its number), and never find a key that was never added.
    /// Without the sequence check the readers do see misses here.
    @Test func readersNeverSeeAWrongAnswerWhileAWriterChurns() {
        let index = SessionStateIndex()
        let keys = (0..<400).map { "plugin:churn:\($0)-\(String(repeating: "k", count: $0 % 24))" }
        // Group of key i: i % 2. Added interleaved, so the groups share probe chains.
        for (i, key) in keys.enumerated() { index.set(key, .idle, owner: UInt32(i)) }
        let absent = (0..<50).map { "plugin:absent:\($0)" }
        let counters = Counters()

        let writer = Thread {
            var round = 0
            while !counters.stop.load(ordering: .relaxed) {
                round += 1
                // Phase `round`: group round % 2 moves, the other stays put.
                counters.phase.store(round, ordering: .sequentiallyConsistent)
                for (i, key) in keys.enumerated() where i % 2 == round % 2 { index.remove(key) }
                for (i, key) in keys.enumerated() where i % 2 == round % 2 {
                    index.set(key, round % 3 == 0 ? .streaming : .idle, owner: UInt32(i))
                }
            }
        }
        // Readers on threads of their own (the test must not hold Swift's cooperative pool).
        let readers = (0..<2).map { reader in
            Thread {
                let hint = LookupHint()
                var n = 0, i = reader
                let deadline = Date().addingTimeInterval(1.5)
                while Date() < deadline {
                    i = (i + 7) % keys.count
                    let before = counters.phase.load(ordering: .sequentiallyConsistent)
                    // Once by its bytes, then twice by C string with the reader's hint: the first
                    // guess is another key's entry (or a reused one), the second most often its own.
                    let found = [Self.lookup(index, keys[i]), Self.lookup(index, keys[i], hint: hint), Self.lookup(index, keys[i], hint: hint)]
                    let after = counters.phase.load(ordering: .sequentiallyConsistent)
                    for found in found {
                        if let found, found.owner != UInt32(i) { counters.wrong.add(1, ordering: .relaxed) }
                        // A key of the group that stayed put for the whole lookup is always found.
                        if found == nil, before == after, before > 0, i % 2 != before % 2 { counters.missed.add(1, ordering: .relaxed) }
                    }
                    if Self.lookup(index, absent[i % absent.count]) != nil { counters.wrong.add(1, ordering: .relaxed) }
                    if Self.lookup(index, absent[i % absent.count], hint: hint) != nil { counters.wrong.add(1, ordering: .relaxed) }
                    n += 5
                }
                counters.checked.add(n, ordering: .relaxed)
            }
        }
        writer.start()
        readers.forEach { $0.start() }
        while readers.contains(where: { !$0.isFinished }) { Thread.sleep(forTimeInterval: 0.01) }
        counters.stop.store(true, ordering: .relaxed)
        while !writer.isFinished { Thread.sleep(forTimeInterval: 0.001) }
        #expect(counters.checked.load(ordering: .relaxed) > 10_000)
        #expect(counters.wrong.load(ordering: .relaxed) == 0)
        #expect(counters.missed.load(ordering: .relaxed) == 0)
    }
}
