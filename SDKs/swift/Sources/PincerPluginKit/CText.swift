// Strings across the boundary: Swift strings lent as NUL-terminated UTF-8 for
// one call, and host-allocated outputs taken back and freed. A Swift string
// may hold U+0000, which a C string cannot carry: it is refused rather than
// cut at the NUL (a truncated key or policy would be a different one).

#if canImport(Glibc)
import Glibc
#endif

/// Lends `text` as a C string for `body`; INVALID_ARGUMENT naming `name` when it holds U+0000.
/// Inlinable, with the hot calls that use it, so a plugin's call site compiles to the C call itself.
@inlinable
func withCText<R>(_ text: String, _ name: StaticString, _ body: (UnsafePointer<CChar>) throws -> R) throws -> R {
    try text.withCString { c in
        // withCString lends the string's own NUL-terminated storage: a NUL before its
        // end means the text held one.
        guard strlen(c) == text.utf8.count else {
            throw PincerError(.invalidArgument, "\(name) contains U+0000, which cannot travel in a C string")
        }
        return try body(c)
    }
}

/// As withCText, lending NULL for nil.
@inline(__always)
func withOptionalCText<R>(_ text: String?, _ name: StaticString, _ body: (UnsafePointer<CChar>?) throws -> R) throws -> R {
    guard let text else { return try body(nil) }
    return try withCText(text, name) { try body($0) }
}

/// Lends a list of strings as a C array of C strings (copies: the lists are short and the calls rare).
func withCTextList<R>(_ list: [String], _ name: StaticString, _ body: (UnsafePointer<UnsafePointer<CChar>?>?, Int) throws -> R) throws -> R {
    if list.isEmpty { return try body(nil, 0) }
    var copies: [UnsafePointer<CChar>?] = []
    defer { copies.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
    for item in list {
        try withCText(item, name) { copies.append(UnsafePointer(strdup($0))) }
    }
    return try copies.withUnsafeBufferPointer { try body($0.baseAddress, list.count) }
}

/// A NUL-terminated char array inside a host-written result (a session key, a run id).
func string<T>(fromCharArray array: inout T) -> String {
    withUnsafeBytes(of: &array) { bytes in String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) }
}

/// The string a borrowed C pointer holds, "" for NULL.
@inlinable
func string(_ pointer: UnsafePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}
