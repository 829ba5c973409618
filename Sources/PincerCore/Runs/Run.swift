// A run: one unit of work in a session, from a user message to a final answer
// (or failure). Mutable state is only touched under the engine's lock.

public enum RunStatus: String, Sendable {
    case queued, running, completed, failed
    case timedOut = "timed_out"
    case cancelled, interrupted

    public var isTerminal: Bool {
        switch self {
        case .queued, .running: return false
        default: return true
        }
    }
}

/// A copy of a run's state, safe to hand out.
public struct RunSnapshot: Sendable, Equatable {
    public var id: String
    public var sessionKey: String
    public var status: RunStatus
    public var finalText: String?
    public var error: String?
    public var durationMs: UInt64

    public init(id: String, sessionKey: String, status: RunStatus, finalText: String? = nil, error: String? = nil, durationMs: UInt64) {
        (self.id, self.sessionKey, self.status, self.finalText, self.error, self.durationMs) = (id, sessionKey, status, finalText, error, durationMs)
    }

    public var json: JSON {
        .object([("runId", .string(id)), ("sessionKey", .string(sessionKey)), ("status", .string(status.rawValue)),
                 ("finalText", JSON(finalText)), ("error", JSON(error)), ("durationMs", JSON(durationMs))])
    }
}

// @unchecked: every mutable field is read and written under the engine's lock.
final class Run: @unchecked Sendable {
    let id: String
    let sessionKey: String
    let message: String
    let owner: Caller
    var status: RunStatus = .queued
    var finalText: String?
    var error: String?
    var startedNs: UInt64 = 0
    var endedNs: UInt64 = 0
    var deadlineNs: UInt64 = .max
    /// Set when someone asked the run to stop; the loop ends with this status and reason.
    var stopRequest: (status: RunStatus, reason: String)?
    /// Steering text waiting for the next tool-call or turn boundary.
    var pendingSteers: [String] = []
    /// Whether the user message is already in the transcript (a spawn's first run
    /// records it with the session, so starting the run needs no write).
    var messageRecorded = false
    /// Whether the run has left its caller's queued-message budget (it started, or ended unstarted).
    var leftQueue = false
    /// The store writer's sequence number of this run's latest write (0: none).
    var writeSequence: UInt64 = 0
    /// What happened in the run so far, and how many of those the store holds.
    var events: [RunEvent] = []
    var persistedEvents = 0
    /// Its model provider's state between turns.
    let scratch = RunScratch()
    /// Wakes its waiters and its pauses when it ends or is asked to stop, and on each
    /// recorded event while `eventWatchers` > 0 (someone follows its events as they come).
    let signal = RunSignal()
    var eventWatchers = 0

    init(id: String, sessionKey: String, message: String, owner: Caller) {
        self.id = id
        self.sessionKey = sessionKey
        self.message = message
        self.owner = owner
    }

    /// A run read back from the store (ended, unless the store was opened read-only while a host ran it).
    init(restoring r: StoredRun) {
        id = r.id
        sessionKey = r.sessionKey
        message = r.message
        owner = r.owner
        status = r.status
        finalText = r.finalText
        error = r.error
        restoredDurationMs = r.durationMs
        events = r.events
        persistedEvents = r.events.count
    }

    /// The duration a restored run had; its clock readings belong to another process.
    private var restoredDurationMs: UInt64?

    var stored: StoredRun {
        StoredRun(id: id, sessionKey: sessionKey, message: message, owner: owner, status: status, finalText: finalText,
                  error: error, durationMs: snapshot.durationMs)
    }

    /// What an ended run holds in memory, roughly (its texts and recorded events), measured
    /// once when the engine starts remembering it.
    private(set) var retainedBytes = 0

    func measureRetainedBytes() {
        retainedBytes = message.utf8.count + (finalText?.utf8.count ?? 0) + (error?.utf8.count ?? 0)
            + events.reduce(0) { $0 + $1.detail.heldBytes }
    }

    var snapshot: RunSnapshot {
        RunSnapshot(id: id, sessionKey: sessionKey, status: status, finalText: finalText, error: error,
                    durationMs: restoredDurationMs ?? (endedNs > startedNs && startedNs > 0 ? (endedNs - startedNs) / 1_000_000 : 0))
    }
}
