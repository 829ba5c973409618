// JSON values for everything that crosses the boundary as text: operator
// config, metadata, tool arguments, status and transcripts. Objects keep their
// key order so output is deterministic; the parser is strict (RFC 8259, no
// extensions) and reports the line and column of the first error, because
// operators read these messages. Integers are kept exactly (see JSON.Number):
// tool arguments carry ids that a Double would round.

public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Number)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.0 == key })?.1
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// The number as a Double: the nearest one for an integer beyond 2^53.
    public var numberValue: Double? { if case .number(let n) = self { return n.doubleValue }; return nil }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: [(String, JSON)]? { if case .object(let o) = self { return o }; return nil }

    /// A non-negative whole number that fits in an Int, or nil.
    public var wholeNumber: Int? { if case .number(let n) = self { return n.wholeNumber }; return nil }

    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

// MARK: - Numbers

extension JSON {
    /// A JSON number. An integer written without fraction or exponent that fits
    /// Int64 or UInt64 is kept exactly, so an id like 123456789012345678 comes
    /// back as written; any other number is the nearest Double (always finite
    /// when parsed: the parser refuses what overflows).
    ///
    /// Equality is by value, as JSON has one number type: 1 == 1.0, and an
    /// integer equals a Double only when the Double is exactly that integer
    /// (9007199254740993 != 9007199254740992.0).
    public struct Number: Equatable, Sendable, CustomStringConvertible {
        /// `.unsigned` only for values above Int64.max, so each integer has one form.
        private enum Value { case signed(Int64), unsigned(UInt64), double(Double) }
        private let value: Value

        public init(_ value: Int64) { self.value = .signed(value) }
        public init(_ value: UInt64) { self.value = value <= UInt64(Int64.max) ? .signed(Int64(value)) : .unsigned(value) }
        public init(_ value: Double) { self.value = .double(value) }

        /// The number as a Double: the nearest one for an integer beyond 2^53.
        public var doubleValue: Double {
            switch value {
            case .signed(let i): return Double(i)
            case .unsigned(let u): return Double(u)
            case .double(let d): return d
            }
        }

        /// A non-negative whole number that fits in an Int, or nil. A Double
        /// counts only up to 9e15, below which it holds every integer exactly.
        var wholeNumber: Int? {
            switch value {
            case .signed(let i): return i >= 0 ? Int(exactly: i) : nil
            case .unsigned(let u): return Int(exactly: u)
            case .double(let d): return d >= 0 && d <= 9.0e15 && d.rounded() == d ? Int(d) : nil
            }
        }

        /// An integral Double as the integer it equals, so comparison stays exact.
        private var canonical: Value {
            guard case .double(let d) = value else { return value }
            if let i = Int64(exactly: d) { return .signed(i) }
            if let u = UInt64(exactly: d) { return .unsigned(u) }
            return value
        }

        public static func == (lhs: Number, rhs: Number) -> Bool {
            switch (lhs.canonical, rhs.canonical) {
            case let (.signed(a), .signed(b)): return a == b
            case let (.unsigned(a), .unsigned(b)): return a == b
            case let (.double(a), .double(b)): return a == b
            default: return false
            }
        }

        /// JSON text. A whole Double below 1e15 is written without a fraction
        /// ("2", not "2.0"); a non-finite one, which JSON cannot express, as null.
        public var description: String {
            switch value {
            case .signed(let i): return String(i)
            case .unsigned(let u): return String(u)
            case .double(let d):
                if d.isFinite, d.rounded() == d, abs(d) < 1e15 { return String(Int64(d)) }
                return d.isFinite ? String(d) : "null"
            }
        }
    }
}

// MARK: - Building

extension JSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Number(Int64(value))) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(elements) }
    public init(nilLiteral: ()) { self = .null }

    public init(_ value: Int) { self = .number(Number(Int64(value))) }
    public init(_ value: UInt64) { self = .number(Number(value)) }
    public init(_ value: String?) { self = value.map(JSON.string) ?? .null }
}

// MARK: - Serialising

extension JSON: CustomStringConvertible {
    /// Compact JSON text.
    public var description: String {
        var out = ""
        write(to: &out)
        return out
    }

    public func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n.description
        case .string(let s): JSON.writeString(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                JSON.writeString(key, to: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    /// Appends `s` quoted, escaping what JSON requires. Works on the UTF-8 bytes: the runs between
    /// escapes are appended whole (most strings have no escape at all and are appended in one go);
    /// every byte escaped is ASCII, so a run never splits a character.
    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        var s = s
        let escaped = s.withUTF8 { bytes -> Bool in
            var runStart = 0
            for (i, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out += String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart..<i]), as: UTF8.self)
                out += JSON.escape(byte)
                runStart = i + 1
            }
            guard runStart > 0 else { return false }
            out += String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart...]), as: UTF8.self)
            return true
        }
        if !escaped { out += s }
        out += "\""
    }

    /// The escape for an ASCII byte JSON does not allow bare in a string.
    private static func escape(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "\""): return "\\\""
        case UInt8(ascii: "\\"): return "\\\\"
        case UInt8(ascii: "\n"): return "\\n"
        case UInt8(ascii: "\r"): return "\\r"
        case UInt8(ascii: "\t"): return "\\t"
        default:
            return "\\u" + Hex.string(UInt64(byte), digits: 4)
        }
    }
}

// MARK: - Parsing

public struct JSONParseError: Error, CustomStringConvertible, Sendable {
    public let line: Int
    public let column: Int
    public let reason: String
    public var description: String { "line \(line), column \(column): \(reason)" }
}

extension JSON {
    /// Parses one JSON document; trailing non-space text is an error.
    public static func parse(_ text: String) throws(JSONParseError) -> JSON {
        var parser = Parser(bytes: Array(text.utf8))
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        if parser.index < parser.bytes.count { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        static let maxDepth = 128

        func error(_ reason: String) -> JSONParseError {
            var line = 1, column = 1
            for b in bytes[0..<min(index, bytes.count)] {
                if b == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
            }
            return JSONParseError(line: line, column: column, reason: reason)
        }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        mutating func expect(_ literal: String, _ value: JSON) throws(JSONParseError) -> JSON {
            let lit = Array(literal.utf8)
            guard index + lit.count <= bytes.count, Array(bytes[index..<index + lit.count]) == lit else {
                throw error("expected '\(literal)'")
            }
            index += lit.count
            return value
        }

        mutating func value(depth: Int) throws(JSONParseError) -> JSON {
            guard depth < Parser.maxDepth else { throw error("nesting deeper than \(Parser.maxDepth) levels") }
            guard index < bytes.count else { throw error("unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character '\(Character(Unicode.Scalar(bytes[index])))'")
            }
        }

        mutating func object(depth: Int) throws(JSONParseError) -> JSON {
            index += 1
            var members: [(String, JSON)] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try string()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\"") }
                index += 1
                skipSpace()
                members.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard index < bytes.count else { throw error("unexpected end of input in an object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                throw error("expected ',' or '}' in an object")
            }
        }

        mutating func array(depth: Int) throws(JSONParseError) -> JSON {
            index += 1
            var items: [JSON] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw error("unexpected end of input in an array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                throw error("expected ',' or ']' in an array")
            }
        }

        mutating func string() throws(JSONParseError) -> String {
            index += 1
            var scalars = String.UnicodeScalarView()
            var run: [UInt8] = []
            func flush() { if !run.isEmpty { scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars); run.removeAll() } }
            while index < bytes.count {
                let b = bytes[index]
                if b == UInt8(ascii: "\"") { index += 1; flush(); return String(scalars) }
                if b < 0x20 { throw error("control character in a string") }
                if b != UInt8(ascii: "\\") { run.append(b); index += 1; continue }
                flush()
                index += 1
                guard index < bytes.count else { break }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate in \\u escape")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("invalid low surrogate in \\u escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    scalars.append(scalar)
                default: throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
                }
            }
            throw error("unterminated string")
        }

        mutating func hex4() throws(JSONParseError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("short \\u escape") }
            var code: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[index]
                let digit: UInt32
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
                default: throw error("invalid hex digit in \\u escape")
                }
                code = code * 16 + digit
                index += 1
            }
            return code
        }

        /// RFC 8259's number: `-`? (`0` | [1-9][0-9]*) (`.` [0-9]+)? ([eE] [+-]? [0-9]+)?
        /// An integer part is accumulated as it is scanned, so a plain integer
        /// (the common case) needs no String and no floating-point conversion.
        mutating func number() throws(JSONParseError) -> JSON {
            let start = index
            let negative = bytes[index] == UInt8(ascii: "-")
            if negative { index += 1 }
            let integerStart = index
            var magnitude: UInt64 = 0
            var fitsUInt64 = true
            while index < bytes.count {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
                magnitude = sum
                fitsUInt64 = fitsUInt64 && !o1 && !o2
                index += 1
            }
            guard index > integerStart else { throw error("expected digits in a number") }
            if bytes[integerStart] == UInt8(ascii: "0"), index - integerStart > 1 {
                index = start
                throw error("a number may not start with a leading zero")
            }
            func digits() -> Int {
                let s = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                return index - s
            }
            var isInteger = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                guard digits() > 0 else { throw error("expected digits after '.'") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw error("expected digits in an exponent") }
            }
            if isInteger, fitsUInt64 {
                if !negative { return .number(Number(magnitude)) }
                // Down to Int64.min, whose magnitude is Int64.max + 1.
                if magnitude <= UInt64(Int64.max) + 1 { return .number(Number(Int64(truncatingIfNeeded: 0 &- magnitude))) }
            }
            guard let n = Double(String(decoding: bytes[start..<index], as: UTF8.self)), n.isFinite else {
                index = start
                throw error("number out of range: a double holds at most about 1.8e308")
            }
            return .number(Number(n))
        }
    }
}

// MARK: - Codable

/// JSON as a Codable value, so wire types (the OpenAI-compatible provider's) can carry
/// arbitrary JSON (a tool's schema, an error's body). Object members keep their order
/// only as far as the encoder does (JSONEncoder: .sortedKeys for a stable order).
extension JSON: Codable {
    private struct MemberName: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: MemberName.self) {
            self = .object(try container.allKeys.map { ($0.stringValue, try container.decode(JSON.self, forKey: $0)) })
        } else if var container = try? decoder.unkeyedContainer() {
            var elements: [JSON] = []
            while !container.isAtEnd { elements.append(try container.decode(JSON.self)) }
            self = .array(elements)
        } else {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() {
                self = .null
            } else if let b = try? value.decode(Bool.self) {
                self = .bool(b)
            } else if let i = try? value.decode(Int64.self) {
                self = .number(Number(i))
            } else if let u = try? value.decode(UInt64.self) {
                self = .number(Number(u))
            } else if let d = try? value.decode(Double.self) {
                self = .number(Number(d))
            } else {
                self = .string(try value.decode(String.self))
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let members):
            var container = encoder.container(keyedBy: MemberName.self)
            for (key, value) in members { try container.encode(value, forKey: MemberName(stringValue: key)) }
        case .array(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let b):
            var container = encoder.singleValueContainer()
            try container.encode(b)
        case .string(let s):
            var container = encoder.singleValueContainer()
            try container.encode(s)
        case .number(let n):
            try n.encode(to: encoder)
        }
    }
}

extension JSON.Number: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch value {
        case .signed(let i): try container.encode(i)
        case .unsigned(let u): try container.encode(u)
        case .double(let d): if d.isFinite { try container.encode(d) } else { try container.encodeNil() }
        }
    }
}

extension JSON {
    /// About the bytes the value holds: its strings' UTF-8, 8 per number or flag, plus a little
    /// per member and element. Counted without rendering it (the engine measures every ended
    /// run's record this way, within its retention budget).
    var heldBytes: Int {
        switch self {
        case .null, .bool, .number: return 8
        case .string(let s): return s.utf8.count + 2
        case .array(let elements): return elements.reduce(2) { $0 + $1.heldBytes + 1 }
        case .object(let members): return members.reduce(2) { $0 + $1.0.utf8.count + 4 + $1.1.heldBytes }
        }
    }
}
