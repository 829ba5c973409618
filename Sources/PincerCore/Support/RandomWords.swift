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
        return String(unsafeUninitializedCapacity: 36) { utf8 in
            var at = 0
            func put(_ value: UInt64, digits: Int) {
                for shift in stride(from: 4 * (digits - 1), through: 0, by: -4) {
                    let nibble = UInt8(truncatingIfNeeded: value >> UInt64(shift) & 0xF)
                    utf8[at] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                    at += 1
                }
            }
            func dash() { utf8[at] = UInt8(ascii: "-"); at += 1 }
            put(versioned >> 32, digits: 8); dash()
            put(versioned >> 16, digits: 4); dash()
            put(versioned, digits: 4); dash()
            put(varied >> 48, digits: 4); dash()
            put(varied, digits: 12)
            return at
        }
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
