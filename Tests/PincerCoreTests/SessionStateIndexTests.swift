// The lock-free session state index: answers match what was set, and readers on
// other threads never get a wrong answer while a writer inserts, removes, grows
// the table and flips states under them.

import Foundation
@testable import PincerCore
import Synchronization
import Testing

@Suite struct SessionStateIndexTests {
    private final class Counters: Sendable {
        let stop = Atomic<Bool>(false)
        let wrong = Atomic<Int>(0), checked = Atomic<Int>(0)
    }

    private static func lookup(_ index: SessionStateIndex, _ key: String) -> (streaming: Bool, owner: UInt32)? {
        var key = key
        return key.withUTF8 { index.lookup(UnsafeRawBufferPointer($0)) }
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
        // A key differing only in its last byte, or one byte longer than any kept, is not found.
        #expect(Self.lookup(index, String(repeating: "k", count: 9) + "x") == nil)
        #expect(Self.lookup(index, String(repeating: "k", count: SessionStateIndex.maxKeyBytes + 1)) == nil)
        for key in keys where key.count % 3 == 0 { index.remove(key) }
        for (i, key) in keys.enumerated() { #expect((Self.lookup(index, key) == nil) == (i % 3 == 0), "key of \(i) bytes") }
    }

    @Test func readersNeverSeeAWrongAnswerWhileAWriterChurns() {
        let index = SessionStateIndex()
        // Stable keys stay present with a fixed owner; their state flips. Churn keys come and go.
        let stable = (0..<200).map { "plugin:stable:\($0)-\(String(repeating: "s", count: $0 % 40))" }
        for (i, key) in stable.enumerated() { index.set(key, .idle, owner: UInt32(i)) }
        let absent = (0..<50).map { "plugin:absent:\($0)" }
        let counters = Counters()

        let writer = Thread {
            var round = 0
            while !counters.stop.load(ordering: .relaxed) {
                // Churn keys between the stable ones in the probe chains; removing them shifts stable keys back.
                let churn = (0..<300).map { "plugin:churn:\(round):\($0)" }
                for key in churn { index.set(key, .streaming, owner: 7) }
                for (i, key) in stable.enumerated() where i % 5 == round % 5 {
                    index.set(key, round % 2 == 0 ? .streaming : .idle, owner: UInt32(i))
                }
                for key in churn { index.remove(key) }
                round += 1
            }
        }
        // The reader on a thread of its own (the test must not hold Swift's cooperative pool),
        // beside the writer: one each for the machine's two cores.
        let reader = Thread {
            var n = 0
            let deadline = Date().addingTimeInterval(1.5)
            while Date() < deadline {
                for (i, key) in stable.enumerated() where Self.lookup(index, key)?.owner != UInt32(i) { counters.wrong.add(1, ordering: .relaxed) }
                for key in absent where Self.lookup(index, key) != nil { counters.wrong.add(1, ordering: .relaxed) }
                n += stable.count + absent.count
            }
            counters.checked.add(n, ordering: .relaxed)
        }
        writer.start()
        reader.start()
        while !reader.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        counters.stop.store(true, ordering: .relaxed)
        while !writer.isFinished { Thread.sleep(forTimeInterval: 0.001) }
        #expect(counters.checked.load(ordering: .relaxed) > 10_000)
        #expect(counters.wrong.load(ordering: .relaxed) == 0)
    }
}
