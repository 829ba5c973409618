// The WebSocket clients connected now, as `health` lists them, each with its
// heartbeat. The WebSocket library answers and consumes protocol pongs itself,
// so the heartbeat is at the application level: the server sends a JSON-RPC
// request {"method": "heartbeat"} and any response with its id (a result, or
// even a "method not found" error) is the pong whose round-trip time is kept.
// A client that leaves `maxMissed` heartbeats in a row unanswered is closed.

import Foundation
import PincerCore
import Synchronization

/// One client's heartbeat as a value: each tick says what to do, each answer updates it.
struct Heartbeat: Sendable {
    enum Action: Equatable { case send(sequence: Int), close(missed: Int) }

    private(set) var sequence = 0
    private var pendingSentNs: UInt64?
    private(set) var missed = 0
    private(set) var rttMs: Double?
    private(set) var lastAnsweredAtMs: UInt64?

    /// The interval passed: the pending heartbeat (if any) counts as missed.
    mutating func tick(nowNs: UInt64, maxMissed: Int) -> Action {
        if pendingSentNs != nil { missed += 1 }
        if missed >= maxMissed { return .close(missed: missed) }
        sequence += 1
        pendingSentNs = nowNs
        return .send(sequence: sequence)
    }

    /// A response to heartbeat `answered` came; only the latest one counts.
    mutating func answer(_ answered: Int, nowNs: UInt64, wallMs: UInt64) {
        guard answered == sequence, let sent = pendingSentNs else { return }
        pendingSentNs = nil
        missed = 0
        rttMs = Double(nowNs &- sent) / 1e6
        lastAnsweredAtMs = wallMs
    }

    /// The id the server gives heartbeat `sequence`, and the sequence back from an id.
    static func id(_ sequence: Int) -> JSON { .string("heartbeat-\(sequence)") }
    static func sequence(of id: JSON?) -> Int? {
        guard let text = id?.stringValue, text.hasPrefix("heartbeat-") else { return nil }
        return Int(text.dropFirst("heartbeat-".count))
    }
}

public final class ClientRegistry: Sendable {
    struct Client: Sendable {
        var address: String
        var connectedAtMs: UInt64
        var heartbeat = Heartbeat()
    }

    private let clients = Mutex<(next: Int, open: [Int: Client])>((1, [:]))

    public init() {}

    /// Registers a client; nil when `limit` clients are connected already.
    func open(address: String, limit: Int) -> Int? {
        clients.withLock { clients in
            guard clients.open.count < limit else { return nil }
            let id = clients.next
            clients.next += 1
            clients.open[id] = Client(address: address, connectedAtMs: WallClock.milliseconds())
            return id
        }
    }

    func close(_ id: Int) { _ = clients.withLock { $0.open.removeValue(forKey: id) } }

    var count: Int { clients.withLock { $0.open.count } }

    func heartbeatTick(_ id: Int, maxMissed: Int) -> Heartbeat.Action? {
        clients.withLock { $0.open[id]?.heartbeat.tick(nowNs: MonotonicClock.nanoseconds(), maxMissed: maxMissed) }
    }

    func heartbeatAnswered(_ id: Int, sequence: Int) {
        clients.withLock { $0.open[id]?.heartbeat.answer(sequence, nowNs: MonotonicClock.nanoseconds(), wallMs: WallClock.milliseconds()) }
    }

    /// Each client, oldest first: id, address, connectedAt, lastHeartbeatAt, rttMs, missedHeartbeats.
    var json: JSON {
        clients.withLock { clients in
            .array(clients.open.sorted { $0.key < $1.key }.map { id, c in
                .object([("id", JSON(id)), ("address", .string(c.address)), ("connectedAt", JSON(c.connectedAtMs)),
                         ("lastHeartbeatAt", c.heartbeat.lastAnsweredAtMs.map { JSON($0) } ?? .null),
                         ("rttMs", c.heartbeat.rttMs.map { .number(JSON.Number((($0 * 1000).rounded()) / 1000)) } ?? .null), ("missedHeartbeats", JSON(c.heartbeat.missed))])
            })
        }
    }
}
