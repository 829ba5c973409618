// Which sessions the current thread is serving: a run's worker while one of
// its tools runs, and a gate on a plugin's lane — which also serves whatever
// the thread that asked for the gate was serving (a tool that spawns, whose
// spawn meets before_session_create). A blocking call made from there on an
// unfinished run of one of those sessions could never return — that run
// waits for this very callback — so the boundary refuses it at once with
// PINCER_ERR_WOULD_BLOCK. Thread-local on purpose: pincer.h asks plugins to
// make such calls on the thread the callback was entered on.

#if canImport(Glibc)
import Glibc
#endif

public enum CallbackFrames {
    private final class Stack {
        var sessions: [String] = []
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { $0.map { Unmanaged<AnyObject>.fromOpaque($0).release() } }
        return key
    }()

    private static var existing: Stack? {
        pthread_getspecific(key).map { Unmanaged<Stack>.fromOpaque($0).takeUnretainedValue() }
    }

    private static var stack: Stack {
        if let existing { return existing }
        let stack = Stack()
        pthread_setspecific(key, Unmanaged.passRetained(stack).toOpaque())
        return stack
    }

    /// The sessions this thread serves now, innermost last.
    public static var current: [String] { existing?.sessions ?? [] }

    /// Runs `body` as serving `sessions` as well.
    public static func serving<T>(_ sessions: [String], _ body: () throws -> T) rethrows -> T {
        let stack = self.stack
        let depth = stack.sessions.count
        stack.sessions += sessions
        defer { stack.sessions.removeSubrange(depth...) }
        return try body()
    }

    /// Whether this thread is inside a callback serving `session`.
    public static func isServing(_ session: String) -> Bool {
        existing?.sessions.contains(session) ?? false
    }
}
