// A plugin's gate lane (hooks.h [gate-lane]): its gate calls run one at a
// time, in the order they came, never overlapping — on the caller's thread
// when it can be left behind, else on a parked thread.
//
//  - Inline (`callInline`): a run's worker runs a tool-call gate itself, so a
//    gate costs a function call, not two thread hand-offs. If the call passes
//    its deadline, a watchdog fails it closed and calls `whenOverdue`, which
//    moves the run on to another worker; the stuck thread is left to the
//    plugin, and when it returns its answer is dropped (`movedOn`).
//  - Handed off (`call`): any other caller (a plugin's thread spawning, the
//    operator) cannot be left behind, so it hands the call to a parked thread
//    and waits for it up to the deadline.
//
// Either way, while a call runs past its deadline the lane is overdue: the
// plugin's later gate calls block at once (saying why) until it returns, so a
// stuck plugin holds at most one thread (plus its nested calls), never one per
// call.

import Foundation

// @unchecked: every var is guarded by `condition`, but `nesting`, which only the holder thread touches.
final class GateLane: @unchecked Sendable {
    enum Outcome<T> {
        case answered(T)
        /// The deadline passed: before the call started (it was dropped) or while it ran in
        /// the plugin (its answer will be dropped).
        case late
        /// An inline call answered after its deadline: the caller's work already went on
        /// elsewhere (whenOverdue); the answer is dropped and the caller must touch nothing.
        case movedOn
        /// The lane closed (its plugin is stopping) before the call ran.
        case closed
        /// maxPendingGates calls already wait for the lane.
        case full
        /// Nested gates on the holder's thread would pass maxNesting.
        case tooDeep
        /// Another call of this plugin's has been in the plugin this long past its deadline.
        case overdue(milliseconds: UInt64)
    }

    /// A caller waiting for the lane; `granted` when the call before it hands the lane over.
    private final class Waiter {
        var granted = false
    }

    private let condition = NSCondition()
    private var busy = false
    /// The thread running the current call's body: a gate asked from it (a hook that
    /// spawns, say) runs at once, nested, instead of waiting behind the call that asked.
    private var holder: pthread_t?
    private var nesting = 0
    private var waiters: [Waiter] = []
    /// Numbers the calls, so a late mark cannot land on the next call.
    private var callNumber: UInt64 = 0
    /// When the current call passed its deadline, if it has.
    private var overdueSinceNs: UInt64?
    private var closed = false
    private let handOff: ParkedThreads
    private let watchdog: GateWatchdog

    init(handOff: ParkedThreads, watchdog: GateWatchdog) {
        self.handOff = handOff
        self.watchdog = watchdog
    }

    /// Runs `body` on this thread. If the deadline passes first, `whenOverdue` runs (on the
    /// watchdog's thread) and, once `body` returns, the answer is dropped (`movedOn`).
    func callInline<T>(deadlineMs: UInt32, whenOverdue: @escaping @Sendable () -> Void, _ body: () -> T) -> Outcome<T> {
        let deadlineNs = MonotonicClock.nanoseconds() &+ UInt64(deadlineMs) &* 1_000_000
        let call: UInt64
        switch acquire(until: deadlineNs, runningHere: true) {
        case .nested: return nested(body)
        case .refused(let outcome): return outcome.map()
        case .acquired(let number): call = number
        }
        let alarm = watchdog.arm(at: deadlineNs) { [self] in
            markOverdue(call)
            whenOverdue()
        }
        let value = body()
        let inTime = watchdog.disarm(alarm)
        release()
        return inTime ? .answered(value) : .movedOn
    }

    /// Runs `body` on a parked thread and waits for it up to the deadline.
    func call<T>(deadlineMs: UInt32, _ body: @escaping @Sendable () -> T) -> Outcome<T> {
        let deadlineNs = MonotonicClock.nanoseconds() &+ UInt64(deadlineMs) &* 1_000_000
        let call: UInt64
        switch acquire(until: deadlineNs, runningHere: false) {
        case .nested: return nested(body)
        case .refused(let outcome): return outcome.map()
        case .acquired(let number): call = number
        }
        let answer = Answer<T>()
        handOff.submit { [self] in
            condition.lock()
            holder = pthread_self()
            condition.unlock()
            answer.give(body())
            release()
        }
        if let value = answer.take(untilNs: deadlineNs) { return .answered(value) }
        markOverdue(call)
        return .late
    }

    /// Accepts no more calls: waiting ones learn at once. A call already in the plugin
    /// finishes on its own.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private enum Acquired {
        case acquired(callNumber: UInt64)
        case nested
        case refused(Outcome<Never>)
    }

    /// Takes the lane, in arrival order, waiting for it up to `deadlineNs`.
    private func acquire(until deadlineNs: UInt64, runningHere: Bool) -> Acquired {
        condition.lock()
        defer { condition.unlock() }
        if closed { return .refused(.closed) }
        if let holder, pthread_equal(holder, pthread_self()) != 0 { return .nested }
        if let since = overdueSinceNs { return .refused(.overdue(milliseconds: (MonotonicClock.nanoseconds() &- since) / 1_000_000)) }
        if busy || !waiters.isEmpty {
            guard waiters.count < HookLimits.maxPendingGates else { return .refused(.full) }
            let waiter = Waiter()
            waiters.append(waiter)
            while !waiter.granted, !closed, overdueSinceNs == nil {
                let now = MonotonicClock.nanoseconds()
                if now >= deadlineNs { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadlineNs - now) / 1e9))
            }
            if !waiter.granted {
                waiters.removeAll { $0 === waiter }
                if closed { return .refused(.closed) }
                if let since = overdueSinceNs { return .refused(.overdue(milliseconds: (MonotonicClock.nanoseconds() &- since) / 1_000_000)) }
                return .refused(.late)
            }
        }
        busy = true
        holder = runningHere ? pthread_self() : nil
        callNumber &+= 1
        return .acquired(callNumber: callNumber)
    }

    /// Ends the current call: the lane passes to the next waiter, or is free.
    private func release() {
        condition.lock()
        holder = nil
        overdueSinceNs = nil
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().granted = true
            condition.broadcast()
        }
        condition.unlock()
    }

    /// The call numbered `call` passed its deadline in the plugin, if it still runs.
    private func markOverdue(_ call: UInt64) {
        condition.lock()
        if busy, callNumber == call, overdueSinceNs == nil {
            overdueSinceNs = MonotonicClock.nanoseconds()
            condition.broadcast()  // waiters block at once rather than at their deadlines
        }
        condition.unlock()
    }

    private func nested<T>(_ body: () -> T) -> Outcome<T> {
        guard nesting < HookLimits.maxNesting else { return .tooDeep }
        nesting += 1
        defer { nesting -= 1 }
        return .answered(body())
    }
}

private extension GateLane.Outcome where T == Never {
    /// A refusal, as an outcome of any answer type.
    func map<U>() -> GateLane.Outcome<U> {
        switch self {
        case .answered(let never): switch never {}
        case .late: return .late
        case .movedOn: return .movedOn
        case .closed: return .closed
        case .full: return .full
        case .tooDeep: return .tooDeep
        case .overdue(let ms): return .overdue(milliseconds: ms)
        }
    }
}

/// A value handed from a parked thread to a waiting caller, or dropped when the caller gave up.
/// @unchecked: set once under its own condition, read under it by the one caller waiting.
private final class Answer<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: T?

    func give(_ v: T) {
        condition.lock()
        value = v
        condition.signal()
        condition.unlock()
    }

    func take(untilNs deadlineNs: UInt64) -> T? {
        condition.lock()
        defer { condition.unlock() }
        while value == nil {
            let now = MonotonicClock.nanoseconds()
            if now >= deadlineNs { break }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadlineNs - now) / 1e9))
        }
        return value
    }
}
