// What the host does to a plugin's log message before printing it (log.h):
// one call stays one line. Control characters — line breaks, tabs, terminal
// escape sequences, C1 controls, Unicode line separators — become visible
// escapes, so a plugin can never start a line that looks like another
// plugin's or the host's; an over-long message is cut at a whole character.

import CPincer
import PincerCore

#if canImport(Glibc)
import Glibc
#endif

enum LogLine {
    static let maxBytes = Int(PINCER_LOG_MAX_BYTES)

    static func sanitize(_ message: UnsafePointer<CChar>) throws(CallError) -> String {
        let length = strnlen(message, maxBytes + 1)
        var cut = length
        var truncated = false
        if length > maxBytes {
            truncated = true
            cut = maxBytes
            // The byte at `cut` is the first one left out: if it continues a character, leave that character out whole.
            let bytes = UnsafeRawPointer(message).assumingMemoryBound(to: UInt8.self)
            while cut > 0, bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        }
        let bytes = UnsafeRawBufferPointer(start: message, count: cut)
        guard CText.isValidUTF8(bytes) else {
            throw CallError(ResultCode.invalidArgument, "message is not valid UTF-8\(truncated ? " (within its first \(maxBytes) bytes)" : "")")
        }
        var line = ""
        line.reserveCapacity(cut)
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            switch scalar.value {
            case 0x0A: line += "\\n"
            case 0x0D: line += "\\r"
            case 0x09: line += "\\t"
            case 0x00..<0x20, 0x7F: line += "\\x" + Hex.string(UInt64(scalar.value), digits: 2)
            case 0x80..<0xA0, 0x2028, 0x2029: line += "\\u{" + Hex.string(UInt64(scalar.value), digits: 2) + "}"
            default: line.unicodeScalars.append(scalar)
            }
        }
        return truncated ? line + "…" : line
    }
}
