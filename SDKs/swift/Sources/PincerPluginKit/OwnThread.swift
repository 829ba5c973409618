// Runs a blocking host call on a thread of the kit's own and resumes the
// awaiting task with its outcome. The calls that block (spawn while gates
// decide, wait, delete_session) may hold a thread for seconds: on Swift's
// cooperative pool (one thread per core) that would starve every other task
// of the process, the host's among them. A thread per call costs tens of
// microseconds, nothing beside the waits it serves.

#if canImport(Glibc)
import Glibc
#endif

private final class ThreadWork {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Starts a detached thread running `body`; false when the system refuses one.
private func startThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    let work = Unmanaged.passRetained(ThreadWork(body)).toOpaque()
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { argument in
        Unmanaged<ThreadWork>.fromOpaque(argument!).takeRetainedValue().body()
        return nil
    }, work)
    guard started == 0 else {
        Unmanaged<ThreadWork>.fromOpaque(work).release()
        return false
    }
    pthread_detach(thread)
    return true
}

/// `call` on a thread of its own; its error (a PincerError, read on that thread) is rethrown here.
func onOwnThread<T: Sendable>(_ call: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let started = startThread { continuation.resume(with: Result { try call() }) }
        if !started { continuation.resume(throwing: PincerError(.internal, "PincerPluginKit could not start a thread for a blocking host call")) }
    }
}
