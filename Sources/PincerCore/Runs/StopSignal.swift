// Who to tell when a run is asked to stop: a provider waiting on I/O registers
// a handler (TurnContext.onStop) instead of polling for the stop.

import Synchronization

final class StopSignal: Sendable {
    private struct State {
        var fired = false
        var next = 0
        var handlers: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    /// Calls every handler registered, once; later registrations are called at once.
    func fire() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.handlers.removeAll() }
            return Array(state.handlers.values)
        }
        for handler in handlers { handler() }
    }

    /// Registers `handler`; the returned function withdraws it.
    func register(_ handler: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        let id = state.withLock { state -> Int? in
            guard !state.fired else { return nil }
            state.next += 1
            state.handlers[state.next] = handler
            return state.next
        }
        guard let id else {
            handler()
            return {}
        }
        return { [self] in state.withLock { _ = $0.handlers.removeValue(forKey: id) } }
    }
}
