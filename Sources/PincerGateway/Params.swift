// A request's params, read by name: each wrong or missing one is an
// INVALID_ARGUMENT error naming the method and the param.

import PincerCore

struct Params {
    let method: String
    let members: [(String, JSON)]

    init(_ request: JSONRPC.Request) throws(JSONRPC.Failure) {
        method = request.method
        switch request.params {
        case nil: members = []
        case .object(let m)?: members = m
        default: throw JSONRPC.Failure(EngineError(.invalidArgument, "\(request.method) takes its params by name (an object)"))
        }
    }

    subscript(name: String) -> JSON? { members.last { $0.0 == name }?.1 }

    func fail(_ name: String, _ what: String) -> JSONRPC.Failure {
        JSONRPC.Failure(EngineError(.invalidArgument, "\(method): params.\(name) \(what)"))
    }

    func string(_ name: String) throws(JSONRPC.Failure) -> String {
        guard let value = try optionalString(name) else { throw fail(name, "is required (a string)") }
        return value
    }

    func optionalString(_ name: String) throws(JSONRPC.Failure) -> String? {
        guard let value = self[name], value != .null else { return nil }
        guard let s = value.stringValue else { throw fail(name, "must be a string, not a \(value.typeName)") }
        return s
    }

    func count(_ name: String, default fallback: Int, max: Int) throws(JSONRPC.Failure) -> Int {
        guard let value = self[name], value != .null else { return fallback }
        guard let n = value.wholeNumber, n >= 0, n <= max else { throw fail(name, "must be a whole number from 0 to \(max), not \(value)") }
        return n
    }

    func strings(_ name: String, in object: JSON?) throws(JSONRPC.Failure) -> [String] {
        guard let value = object?[name] else { return [] }
        guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
            throw fail(name, "must be an array of strings")
        }
        return items.compactMap(\.stringValue)
    }
}
