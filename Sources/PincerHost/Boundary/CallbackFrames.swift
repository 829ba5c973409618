// Which sessions the current thread is serving from inside a callback into a
// plugin (a tool call, a gate). A blocking host call made from there on a run
// of one of those sessions could never return — that run waits for this very
// callback — so the thunk refuses it at once with PINCER_ERR_WOULD_BLOCK.

#if canImport(Glibc)
import Glibc
#endif

enum CallbackFrames {
    private final class Stack {
        var sessions: [String] = []
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { $0.map { Unmanaged<AnyObject>.fromOpaque($0).release() } }
        return key
    }()

    private static var stack: Stack {
        if let p = pthread_getspecific(key) { return Unmanaged<Stack>.fromOpaque(p).takeUnretainedValue() }
        let stack = Stack()
        pthread_setspecific(key, Unmanaged.passRetained(stack).toOpaque())
        return stack
    }

    /// Runs `body` (a call into the plugin) as serving `session`.
    static func serving<T>(_ session: String, _ body: () throws -> T) rethrows -> T {
        let stack = self.stack
        stack.sessions.append(session)
        defer { stack.sessions.removeLast() }
        return try body()
    }

    /// Whether this thread is inside a callback serving `session`.
    static func isServing(_ session: String) -> Bool {
        guard let p = pthread_getspecific(key) else { return false }
        return Unmanaged<Stack>.fromOpaque(p).takeUnretainedValue().sessions.contains(session)
    }
}
