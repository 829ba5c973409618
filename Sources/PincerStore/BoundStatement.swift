// The group-commit writer's statements, bound straight through SQLite's C API.
// GRDB's StatementArguments box every value (an existential, then a
// DatabaseValue) before binding it: under load that was about a quarter of the
// writer's time, and the writer is what bounds runs per second with the store.
// GRDB still opens the connection, prepares and caches the statements, and
// owns the transaction; only binding and stepping happen here.

import GRDB
import GRDBSQLite

/// A statement's parameters, bound in order (the first is 1).
struct Parameters: ~Copyable {
    // SQLITE_TRANSIENT: SQLite copies the bytes before the bind returns, so they need not outlive it.
    private static let copied = unsafeBitCast(-1 as Int, to: sqlite3_destructor_type.self)
    private let statement: SQLiteStatement
    fileprivate var next: Int32 = 1
    /// The first bind that failed, as SQLite's result code (SQLITE_OK while none has), and its
    /// message, taken at once: a later bind that succeeds resets the connection's message.
    fileprivate var failure = SQLITE_OK
    fileprivate var failureMessage = ""

    fileprivate init(_ statement: SQLiteStatement) { self.statement = statement }

    mutating func text(_ value: String?) {
        guard var value else { return null() }
        let code = value.withUTF8 { utf8 -> Int32 in
            // An empty buffer may have no address, and a NULL pointer would bind SQL NULL, not ''.
            guard let bytes = utf8.baseAddress else { return "".withCString { sqlite3_bind_text(statement, next, $0, 0, Parameters.copied) } }
            return sqlite3_bind_text(statement, next, UnsafeRawPointer(bytes).assumingMemoryBound(to: CChar.self), Int32(utf8.count), Parameters.copied)
        }
        advance(code)
    }

    mutating func integer(_ value: Int64) { advance(sqlite3_bind_int64(statement, next, value)) }
    mutating func integer(_ value: Int) { integer(Int64(value)) }
    mutating func integer(_ value: UInt64) { integer(Int64(clamping: value)) }
    mutating func integer(_ value: Bool) { integer(Int64(value ? 1 : 0)) }

    mutating func null() { advance(sqlite3_bind_null(statement, next)) }

    private mutating func advance(_ code: Int32) {
        if failure == SQLITE_OK, code != SQLITE_OK {
            failure = code
            failureMessage = "parameter \(next): " + lastMessage(of: statement)
        }
        next += 1
    }
}

extension Statement {
    /// Binds every parameter with `bind`, in order, and runs the statement once (an INSERT
    /// or UPDATE: no rows come back). Throws DatabaseError, with SQLite's message and this
    /// statement's SQL, when `bind` bound another number of parameters than the SQL has, when
    /// a bind fails (nothing runs), or when the step fails. Either way the statement is left
    /// reset and unbound, ready for the next commit.
    func execute(binding bind: (inout Parameters) -> Void) throws {
        let statement = sqliteStatement
        var parameters = Parameters(statement)
        bind(&parameters)
        defer {
            sqlite3_reset(statement)
            // The bound copies (message texts among them) are not kept until the next commit.
            sqlite3_clear_bindings(statement)
        }
        let expected = sqlite3_bind_parameter_count(statement)
        guard parameters.next - 1 == expected else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "\(parameters.next - 1) values bound for \(expected) parameters", sql: sql)
        }
        guard parameters.failure == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: parameters.failure), message: parameters.failureMessage, sql: sql)
        }
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: lastMessage(of: statement), sql: sql)
        }
    }
}

/// SQLite's message for the last call that failed on the statement's connection.
private func lastMessage(of statement: SQLiteStatement) -> String { String(cString: sqlite3_errmsg(sqlite3_db_handle(statement))) }
