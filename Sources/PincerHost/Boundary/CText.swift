// Reading text from C and writing it back: every C string a plugin hands the
// host is checked here (NULL, length, UTF-8) before anything else sees it, and
// every string the host hands out is allocated here, to be released by
// host->free.

import CPincer

#if canImport(Glibc)
import Glibc
#endif

enum CText {
    /// The bytes of a NUL-terminated UTF-8 string, borrowed for the call.
    /// Fails on NULL, on more than `max` bytes, or on invalid UTF-8.
    /// With `validateUTF8: false` the caller must validate before the bytes reach
    /// anything that keeps them or shows them (see is_streaming: a hit proves validity).
    @inline(__always)
    static func bytes(_ pointer: UnsafePointer<CChar>?, _ field: String, max: Int, validateUTF8: Bool = true) throws(CallError) -> UnsafeRawBufferPointer {
        guard let pointer else { throw CallError(ResultCode.invalidArgument, "\(field) is NULL") }
        let length = strnlen(pointer, max + 1)
        guard length <= max else { throw CallError(ResultCode.invalidArgument, "\(field) is longer than \(max) bytes") }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        if validateUTF8 { try requireUTF8(bytes, field) }
        return bytes
    }

    @inline(__always)
    static func requireUTF8(_ bytes: UnsafeRawBufferPointer, _ field: String) throws(CallError) {
        guard isValidUTF8(bytes) else { throw CallError(ResultCode.invalidArgument, "\(field) is not valid UTF-8") }
    }

    /// A Swift String copy of a C string; nil for NULL when not `required`.
    static func string(_ pointer: UnsafePointer<CChar>?, _ field: String, max: Int, required: Bool = true) throws(CallError) -> String? {
        if pointer == nil, !required { return nil }
        let b = try bytes(pointer, field, max: max)
        return String(decoding: b, as: UTF8.self)
    }

    static func requiredString(_ pointer: UnsafePointer<CChar>?, _ field: String, max: Int) throws(CallError) -> String {
        try string(pointer, field, max: max)!
    }

    /// ASCII is checked eight bytes at a time; anything else goes to the full validator.
    @inline(__always)
    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            if bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return validateSlow(bytes) }
            i += 8
        }
        while i < n {
            if bytes[i] & 0x80 != 0 { return validateSlow(bytes) }
            i += 1
        }
        return true
    }

    private static func validateSlow(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// A host-allocated copy for an output; the plugin releases it with host->free.
    static func allocate(_ s: String) -> UnsafeMutablePointer<CChar> {
        var s = s
        return s.withUTF8 { utf8 in
            let p = malloc(utf8.count + 1)!.assumingMemoryBound(to: CChar.self)
            if utf8.count > 0 { memcpy(p, utf8.baseAddress!, utf8.count) }
            p[utf8.count] = 0
            return p
        }
    }

    /// Takes text a plugin handed over (from host->alloc): reads it, then frees it.
    /// nil for NULL; an error naming `what` when it is over `max` bytes (or has no
    /// NUL within them) or is not UTF-8.
    static func take(_ pointer: UnsafeMutablePointer<CChar>?, _ what: String, max: Int) throws(CallError) -> String? {
        guard let pointer else { return nil }
        defer { free(pointer) }
        let length = strnlen(pointer, max + 1)
        guard length <= max else { throw CallError(ResultCode.invalidArgument, "\(what) is longer than \(max) bytes (or has no NUL)") }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        guard isValidUTF8(bytes) else { throw CallError(ResultCode.invalidArgument, "\(what) is not valid UTF-8") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Copies `s` plus a NUL into a fixed C array (a tuple in Swift); fails when it does not fit.
    static func copy<T>(_ s: String, into array: inout T, _ field: String) throws(CallError) {
        let fits = withUnsafeMutableBytes(of: &array) { raw -> Bool in
            let utf8 = Array(s.utf8)
            guard utf8.count < raw.count else { return false }
            raw.copyBytes(from: utf8)
            raw[utf8.count] = 0
            return true
        }
        if !fits { throw CallError(ResultCode.internalFailure, "\(field) '\(s)' does not fit its buffer") }
    }

    /// Reads a C array of `count` strings (NULL array with count 0 is empty).
    static func strings(_ array: UnsafePointer<UnsafePointer<CChar>?>?, count: Int, _ field: String, maxCount: Int, maxBytes: Int) throws(CallError) -> [String] {
        guard count > 0 else { return [] }
        guard let array else { throw CallError(ResultCode.invalidArgument, "\(field) is NULL but its count is \(count)") }
        guard count <= maxCount else { throw CallError(ResultCode.invalidArgument, "\(field) has \(count) entries; at most \(maxCount)") }
        var out: [String] = []
        for i in 0..<count { out.append(try requiredString(array[i], "\(field)[\(i)]", max: maxBytes)) }
        return out
    }
}
