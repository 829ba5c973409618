// How a failed host call reports itself: a result code for the return value,
// and a message kept per thread and plugin for host->last_error. Nothing in the boundary
// traps on plugin input; every failure ends up here.

import CPincer
import PincerCore

#if canImport(Glibc)
import Glibc
#endif

/// The result codes of result.h, typed as the pincer_result the table returns.
enum ResultCode {
    static let ok = pincer_result(PINCER_OK.rawValue)
    static let invalidArgument = pincer_result(PINCER_ERR_INVALID_ARGUMENT.rawValue)
    static let badHandle = pincer_result(PINCER_ERR_BAD_HANDLE.rawValue)
    static let shutDown = pincer_result(PINCER_ERR_SHUT_DOWN.rawValue)
    static let notFound = pincer_result(PINCER_ERR_NOT_FOUND.rawValue)
    static let denied = pincer_result(PINCER_ERR_DENIED.rawValue)
    static let limit = pincer_result(PINCER_ERR_LIMIT.rawValue)
    static let timeout = pincer_result(PINCER_ERR_TIMEOUT.rawValue)
    static let internalFailure = pincer_result(PINCER_ERR_INTERNAL.rawValue)
    static let unsupported = pincer_result(PINCER_ERR_UNSUPPORTED.rawValue)
    static let plugin = pincer_result(PINCER_ERR_PLUGIN.rawValue)
    static let wouldBlock = pincer_result(PINCER_ERR_WOULD_BLOCK.rawValue)

    private static let names = ["PINCER_OK", "PINCER_ERR_INVALID_ARGUMENT", "PINCER_ERR_BAD_HANDLE", "PINCER_ERR_SHUT_DOWN",
                                "PINCER_ERR_NOT_FOUND", "PINCER_ERR_DENIED", "PINCER_ERR_LIMIT", "PINCER_ERR_TIMEOUT",
                                "PINCER_ERR_INTERNAL", "PINCER_ERR_UNSUPPORTED", "PINCER_ERR_PLUGIN", "PINCER_ERR_WOULD_BLOCK"]

    /// "PINCER_ERR_DENIED" for a code, for messages operators read.
    static func name(_ code: pincer_result) -> String {
        isKnown(code) ? names[Int(code)] : "unknown result code \(code)"
    }

    /// Whether result.h names the code.
    static func isKnown(_ code: pincer_result) -> Bool { code >= 0 && Int(code) < names.count }
}

extension EngineError.Kind {
    /// The result.h code a plugin (or a gateway client, in a JSON-RPC error) is told.
    public var resultCode: pincer_result {
        switch self {
        case .invalidArgument: ResultCode.invalidArgument
        case .notFound: ResultCode.notFound
        case .denied: ResultCode.denied
        case .limit: ResultCode.limit
        case .timeout: ResultCode.timeout
        case .unsupported: ResultCode.unsupported
        case .internalFailure: ResultCode.internalFailure
        case .shuttingDown: ResultCode.shutDown
        }
    }

    /// "PINCER_ERR_NOT_FOUND", for messages and JSON-RPC error data.
    public var resultName: String { ResultCode.name(resultCode) }
}

struct CallError: Error {
    let code: pincer_result
    let message: String

    init(_ code: pincer_result, _ message: String) {
        self.code = code
        self.message = message
    }

    init(_ error: EngineError) {
        code = error.kind.resultCode
        message = error.message
    }

    /// Records the message for this thread and the plugin behind `host` (and in its diagnostics
    /// when watched, with the host function's name), and returns the code.
    func report(for host: UnsafePointer<pincer_host>?, function: StaticString) -> pincer_result {
        let context = HostTables.context(host)
        LastError.set(message, plugin: context?.slot ?? -1)
        if let context, let diagnostics = context.diagnostics {
            diagnostics.record(context.phase == .dead ? .callAfterShutdown : .refusedCall,
                               "\(PluginDiagnostics.cName(of: function)): \(ResultCode.name(code)): \(message)")
        }
        return code
    }
}

/// The last error message per thread and per plugin, so one plugin never reads
/// another's. Each thread owns a small table of malloc'd C strings keyed by the
/// plugin's index slot (-1 for calls whose handle was bad), replaced on the next
/// error and freed when the thread exits.
enum LastError {
    private final class Messages {
        var byPlugin: [Int: UnsafeMutablePointer<CChar>] = [:]
        deinit { byPlugin.values.forEach { free($0) } }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { $0.map { Unmanaged<AnyObject>.fromOpaque($0).release() } }
        return key
    }()

    // nonisolated(unsafe): a constant C string, never written, alive for the process.
    private nonisolated(unsafe) static let empty: UnsafeMutablePointer<CChar> = strdup("")!

    private static func messages(creating: Bool) -> Messages? {
        if let p = pthread_getspecific(key) { return Unmanaged<Messages>.fromOpaque(p).takeUnretainedValue() }
        guard creating else { return nil }
        let messages = Messages()
        pthread_setspecific(key, Unmanaged.passRetained(messages).toOpaque())
        return messages
    }

    static func set(_ message: String, plugin slot: Int) {
        let table = messages(creating: true)!
        let old = table.byPlugin.updateValue(strdup(message), forKey: slot)
        free(old)
    }

    static func current(plugin slot: Int) -> UnsafePointer<CChar> {
        UnsafePointer(messages(creating: false)?.byPlugin[slot] ?? empty)
    }
}
