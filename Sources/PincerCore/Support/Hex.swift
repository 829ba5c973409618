// Lower-case hexadecimal, as the host writes it everywhere: ids and keys, file
// digests, \u escapes in JSON and log lines.

public enum Hex {
    /// `value` in lower-case hex, zero-padded to at least `digits` digits (never cut).
    public static func string(_ value: UInt64, digits: Int) -> String {
        let count = max(digits, (64 - value.leadingZeroBitCount + 3) / 4)
        return String(unsafeUninitializedCapacity: count) { utf8 in
            for i in 0..<count {
                let nibble = UInt8(truncatingIfNeeded: (value >> UInt64(4 * (count - 1 - i))) & 0xF)
                utf8[i] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
            }
            return count
        }
    }
}
