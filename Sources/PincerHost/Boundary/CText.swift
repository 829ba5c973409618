// Reading text from C and writing it back: every C string a plugin hands the
// host is checked here (NULL, length, UTF-8) before anything else sees it, and
// every string the host hands out is allocated here (HostMemory), to be
// released by host->free.

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

    /// strcmp(c, s) == 0 without copying `s` into a new C string on each call, as passing a
    /// String to strcmp would: reads `c` only up to its first difference from `s`, as strcmp does.
    static func equals(_ c: UnsafePointer<CChar>, _ s: String) -> Bool {
        var i = 0
        for byte in s.utf8 {
            guard UInt8(bitPattern: c[i]) == byte else { return false }
            i += 1
        }
        return c[i] == 0
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
    /// Text containing U+0000 cannot travel as a C string: refused, never cut short.
    static func allocate(_ s: String, _ field: String) throws(CallError) -> UnsafeMutablePointer<CChar> {
        var s = s
        let copy = s.withUTF8 { utf8 -> UnsafeMutablePointer<CChar>? in
            guard !utf8.contains(0), let raw = HostMemory.allocate(utf8.count + 1) else { return nil }
            let p = raw.assumingMemoryBound(to: CChar.self)
            if utf8.count > 0 { memcpy(p, utf8.baseAddress!, utf8.count) }
            p[utf8.count] = 0
            return p
        }
        guard let copy else {
            if s.utf8.contains(0) { throw CallError(ResultCode.unsupported, "\(field) contains U+0000, which a NUL-terminated string cannot carry") }
            throw CallError(ResultCode.internalFailure, "out of memory for \(s.utf8.count + 1) bytes of \(field)")
        }
        return copy
    }

    /// Takes text a plugin handed over (from host->alloc): reads it within its allocation,
    /// then frees it. nil for NULL; an error naming `what` when it is over `max` bytes, has
    /// no NUL inside its allocation, did not come from host->alloc, or is not UTF-8.
    static func take(_ pointer: UnsafeMutablePointer<CChar>?, _ what: String, max: Int) throws(CallError) -> String? {
        guard let pointer else { return nil }
        guard let allocated = HostMemory.size(of: pointer) else {
            throw CallError(ResultCode.invalidArgument, "\(what) is not memory from host->alloc")
        }
        defer { HostMemory.release(pointer) }
        let limit = Swift.min(allocated, max + 1)
        let length = strnlen(pointer, limit)
        guard length < limit else {
            throw CallError(ResultCode.invalidArgument, length > max ? "\(what) is longer than \(max) bytes" : "\(what) has no NUL within the \(allocated) bytes host->alloc gave it")
        }
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

    /// Reads a C array of `count` strings (NULL array with count 0 is empty). `count` is the
    /// C size_t as Swift imports it (Int): a huge size_t arrives negative and is refused,
    /// never read as "no entries".
    static func strings(_ array: UnsafePointer<UnsafePointer<CChar>?>?, count: Int, _ field: String, maxCount: Int, maxBytes: Int) throws(CallError) -> [String] {
        guard count != 0 else { return [] }
        guard count > 0, count <= maxCount else {
            throw CallError(ResultCode.invalidArgument, "\(field)_count is \(UInt(bitPattern: count)); at most \(maxCount)")
        }
        guard let array else { throw CallError(ResultCode.invalidArgument, "\(field) is NULL but its count is \(count)") }
        var out: [String] = []
        for i in 0..<count { out.append(try requiredString(array[i], "\(field)[\(i)]", max: maxBytes)) }
        return out
    }
}

/// Memory that crosses the boundary: host->alloc, host->free and every output the host
/// allocates. Each block carries its size in a header before it, so the host never reads
/// past what it allocated (text a plugin forgot to terminate), and a pointer from
/// anywhere else is recognised as such in most cases instead of being freed.
enum HostMemory {
    private static let header = 16
    /// malloc's alignment on LP64 glibc; a 16-byte header keeps it for the block.
    private static let alignment = 16
    private static let magic: UInt64 = 0x7069_6E63_6572_6D6D // "pincermm"
    /// The largest block host->alloc hands out.
    static let maxBytes = 1 << 30

    static func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        guard size > 0, size <= maxBytes, let base = malloc(size + header) else { return nil }
        base.storeBytes(of: magic, as: UInt64.self)
        base.storeBytes(of: UInt64(size), toByteOffset: 8, as: UInt64.self)
        return base + header
    }

    /// The size of a block from allocate, or nil when `pointer` does not look like one
    /// (a block is aligned as malloc aligns, so a misaligned pointer is none of them).
    static func size(of pointer: UnsafeRawPointer) -> Int? {
        guard Int(bitPattern: pointer) % alignment == 0 else { return nil }
        let base = pointer - header
        guard base.load(as: UInt64.self) == magic else { return nil }
        return Int(base.load(fromByteOffset: 8, as: UInt64.self))
    }

    static func release(_ pointer: UnsafeMutableRawPointer?) {
        guard let pointer, size(of: pointer) != nil else { return }
        let base = pointer - header
        base.storeBytes(of: 0, as: UInt64.self) // a second free of the same block is ignored
        free(base)
    }
}
