// The engine's one error type: a kind the boundary maps to a result code, and
// a message that names the argument, setting or value at fault.

public struct EngineError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case invalidArgument
        case notFound
        case denied
        case limit
        case timeout
        case unsupported
        case internalFailure
        /// The engine is shutting down and takes no new work.
        case shuttingDown
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
