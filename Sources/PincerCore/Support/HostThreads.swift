// Threads the host starts: named for the kernel (Foundation's Thread.name
// does not reach it on Linux), so `top -H` and /proc tell them apart, and
// known by id while they run, so `pincer validate` can tell a plugin's
// leftover thread from the host's own (a name proves nothing: a thread a
// plugin starts from a host thread inherits that thread's name).

import Foundation
import Synchronization

public enum HostThreads {
    private static let running = Mutex<Set<Int32>>([])

    /// Starts `body` on a new thread named `name` (the kernel keeps its first 15 bytes).
    public static func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            // gettid() and pthread_setname_np() are not imported from Glibc: /proc/thread-self serves both.
            let id = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"))
                .flatMap { $0.split(separator: "/").last.flatMap { Int32($0) } }
            try? String(decoding: name.utf8.prefix(15), as: UTF8.self).write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            if let id { running.withLock { _ = $0.insert(id) } }
            defer { if let id { running.withLock { _ = $0.remove(id) } } }
            body()
        }
        thread.name = name
        thread.start()
    }

    /// The kernel ids of the host's threads running now.
    public static var ids: Set<Int32> { running.withLock { $0 } }
}
