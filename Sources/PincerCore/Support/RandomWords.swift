// Random 64-bit words for the ids and keys the engine makes at every spawn and
// prompt, drawn from the kernel's generator 512 words at a time (getentropy). Here one getrandom
// call per word cost 0.4 µs and Foundation's UUID() 3.7 µs (it opens /dev/urandom
// each time): about a tenth of a one-turn run's CPU, for two key tails and an id.
// The words are as unpredictable as getrandom's; until used they sit in this
// process's memory, so a forked child that went on running this code would repeat
// them (the host forks only to exec).

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum RandomWords {
    private static let pool = Mutex(Pool())

    /// The next random word.
    public static func next() -> UInt64 { pool.withLock { $0.next() } }

    /// A random (version 4) UUID in lower-case hex, as `UUID().uuidString.lowercased()` spells one.
    public static func uuidString() -> String {
        let (high, low) = pool.withLock { ($0.next(), $0.next()) }
        // Version 4 in the third group's first digit; variant 10 in the fourth group's top bits.
        let versioned = high & ~0xF000 | 0x4000, varied = low & ~(0xC << 60) | 0x8 << 60
        return [Hex.string(versioned >> 32, digits: 8), Hex.string(versioned >> 16 & 0xFFFF, digits: 4), Hex.string(versioned & 0xFFFF, digits: 4),
                Hex.string(varied >> 48, digits: 4), Hex.string(varied & 0xFFFF_FFFF_FFFF, digits: 12)].joined(separator: "-")
    }

    private struct Pool {
        private var words = [UInt64](repeating: 0, count: 512)
        private var used = 512

        mutating func next() -> UInt64 {
            if used == words.count {
                words.withUnsafeMutableBytes { Pool.fill($0) }
                used = 0
            }
            defer { used += 1 }
            return words[used]
        }

        /// getentropy (getrandom underneath) gives at most 256 bytes a call: 16 calls a refill.
        private static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
            for start in stride(from: 0, to: buffer.count, by: 256) {
                let rc = getentropy(buffer.baseAddress! + start, min(256, buffer.count - start))
                precondition(rc == 0, "the kernel's random generator failed (getentropy: errno \(errno))")
            }
        }
    }
}
