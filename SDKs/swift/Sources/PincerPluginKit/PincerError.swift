// The one error a host call throws: the host's result code and the text of
// host->last_error, read on the same thread right after the failing call
// (the message is per thread and is replaced by the next failure).

@_exported import CPincerABI

/// A host result code (result.h). A newtype rather than an enum: a newer host
/// may answer a code this kit does not know, and it must stay representable.
public struct ResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let ok = ResultCode(rawValue: 0)
    public static let invalidArgument = ResultCode(rawValue: 1)
    public static let badHandle = ResultCode(rawValue: 2)
    public static let shutDown = ResultCode(rawValue: 3)
    public static let notFound = ResultCode(rawValue: 4)
    public static let denied = ResultCode(rawValue: 5)
    public static let limit = ResultCode(rawValue: 6)
    public static let timeout = ResultCode(rawValue: 7)
    public static let `internal` = ResultCode(rawValue: 8)
    public static let unsupported = ResultCode(rawValue: 9)
    public static let plugin = ResultCode(rawValue: 10)
    public static let wouldBlock = ResultCode(rawValue: 11)

    private static let names = ["OK", "INVALID_ARGUMENT", "BAD_HANDLE", "SHUT_DOWN", "NOT_FOUND", "DENIED", "LIMIT",
                                "TIMEOUT", "INTERNAL", "UNSUPPORTED", "PLUGIN", "WOULD_BLOCK"]
    public var description: String {
        ResultCode.names.indices.contains(Int(rawValue)) ? ResultCode.names[Int(rawValue)] : "code \(rawValue)"
    }
}

/// What a failing host call throws; also what a tool or hook may throw to choose
/// the code its call returns (any other error returns PLUGIN).
public struct PincerError: Error, Sendable, CustomStringConvertible {
    public let code: ResultCode
    public let message: String

    public init(_ code: ResultCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
