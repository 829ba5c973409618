// The pooled random words behind session ids and key tails: well-formed version 4
// UUIDs, no repeats across many refills of the pool, and every bit taking both values
// about equally often.

import Foundation
@testable import PincerCore
import Testing

@Suite struct RandomWordsTests {
    @Test func uuidsAreVersionFourInLowerCaseHexAndFoundationReadsThem() throws {
        for _ in 0..<1000 {
            let text = RandomWords.uuidString()
            let characters = Array(text)
            #expect(characters.count == 36, "\(text)")
            #expect([8, 13, 18, 23].allSatisfy { characters[$0] == "-" }, "\(text)")
            #expect(characters[14] == "4" && "89ab".contains(characters[19]), "\(text)")
            #expect(characters.enumerated().allSatisfy { [8, 13, 18, 23].contains($0.offset) || "0123456789abcdef".contains($0.element) }, "\(text)")
            let parsed = try #require(UUID(uuidString: text), "\(text)")
            #expect(parsed.uuidString.lowercased() == text)
        }
    }

    /// 20,000 words span 40 refills of the 512-word pool: a refill that repeated or skipped
    /// filling would repeat words or leave bits stuck.
    @Test func wordsDoNotRepeatAndEachBitIsSetAboutHalfTheTime() {
        let words = (0..<20_000).map { _ in RandomWords.next() }
        #expect(Set(words).count == words.count)
        for bit in 0..<64 {
            let set = words.count { $0 >> UInt64(bit) & 1 == 1 }
            // Binomial(20,000, 1/2): 9,400 and 10,600 lie more than eight standard deviations out.
            #expect((9_400...10_600).contains(set), "bit \(bit) set in \(set) of \(words.count) words")
        }
    }
}
