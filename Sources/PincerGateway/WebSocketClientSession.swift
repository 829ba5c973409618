// One WebSocket client of the gateway, from upgrade to close. Three parts run
// side by side: the reader (each JSON-RPC request becomes a task of its own,
// at most gateway.limits.maxInFlightPerClient at once), the writer (drains a
// bounded outbound queue: a client that lets it fill is dropped, never allowed
// to grow memory or stall others) and the heartbeat (ClientRegistry). When the
// client goes, everything it started gives up: waits return, streams stop.

import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore
import PincerCore
import PincerHost
import ServiceLifecycle
import Synchronization

struct WebSocketClientSession {
    let methods: OperatorMethods
    let settings: GatewaySettings
    let id: Int
    let address: String
    let channel: any Channel
    let logger: Logger

    /// What the client has going, shared by its tasks.
    final class Load: Sendable {
        let inFlight = Atomic<Int>(0)
        let subscriptions = Atomic<Int>(0)
        let gone = Atomic<Bool>(false)
        let dropReason = Mutex<String?>(nil)
    }

    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let load = Load()
        let (queue, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingOldest(settings.maxOutboundQueue))
        let channel = self.channel, logger = self.logger, settings = self.settings, id = self.id
        // Enqueues a message; a full queue drops the client (its reader is too slow).
        let send: @Sendable (JSON) -> Bool = { message in
            switch continuation.yield(message.description) {
            case .enqueued: return true
            case .dropped:
                Self.drop(load, channel, logger, "it did not read its messages: \(settings.maxOutboundQueue) were waiting (gateway.limits.maxOutboundQueue)")
                continuation.finish()
                return false
            case .terminated: return false
            @unknown default: return false
            }
        }
        let client = GatewayClient(id: id, address: address, gone: { load.gone.load(ordering: .relaxed) })
        // At the server's graceful stop the WebSocket library sends a close frame and waits for
        // the client's; a client that never answers is closed after a short wait, not kept.
        await withGracefulShutdownHandler {
            await serve(queue: queue, continuation: continuation, load: load, client: client, outbound: outbound, inbound: inbound, send: send)
        } onGracefulShutdown: {
            Task {
                try? await Task.sleep(for: .seconds(2))
                channel.close(promise: nil)
            }
        }
        if let reason = load.dropReason.withLock({ $0 }) { logger.warning("gateway client \(id) (\(address)) was dropped: \(reason)") }
    }

    private func serve(queue: AsyncStream<String>, continuation: AsyncStream<String>.Continuation, load: Load, client: GatewayClient,
                       outbound: WebSocketOutboundWriter, inbound: WebSocketInboundStream, send: @escaping @Sendable (JSON) -> Bool) async {
        let (id, address, settings, logger) = (self.id, self.address, self.settings, self.logger)
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await text in queue {
                    do { try await outbound.write(.text(text)) } catch { break }
                }
            }
            group.addTask { await heartbeat(load, send) }
            do {
                for try await message in inbound.messages(maxSize: settings.maxFrameBytes) {
                    guard case .text(let text) = message else {
                        _ = send(JSONRPC.error(id: nil, .invalidRequest("a binary message is not JSON-RPC: send text")))
                        continue
                    }
                    await receive(text, load: load, client: client, send: send, group: &group)
                }
            } catch {
                logger.info("gateway client \(id) (\(address)) ended: \(error)")
            }
            load.gone.store(true, ordering: .relaxed)
            continuation.finish()
            methods.engine.wakeWaiters()
            group.cancelAll()
        }
    }

    /// A text message: a response (to a heartbeat), a request, or a batch of requests.
    private func receive(_ text: String, load: Load, client: GatewayClient, send: @escaping @Sendable (JSON) -> Bool,
                         group: inout DiscardingTaskGroup) async {
        switch JSONRPC.parse(text) {
        case .success(.response(let responseId)):
            if let sequence = Heartbeat.sequence(of: responseId) { methods.clients.heartbeatAnswered(id, sequence: sequence) }
        case .failure(let failure): _ = send(JSONRPC.error(id: nil, failure))
        case .success(.single(let request, let requestId)):
            await start(request, id: requestId, load: load, client: client, send: send, group: &group)
        case .success(.batch(let requests)):
            for (request, requestId) in requests { await start(request, id: requestId, load: load, client: client, send: send, group: &group) }
        }
    }

    /// Starts one request as a task of its own, unless the client already has its limit in flight.
    private func start(_ parsed: Result<JSONRPC.Request, JSONRPC.Failure>, id requestId: JSON?, load: Load, client: GatewayClient,
                       send: @escaping @Sendable (JSON) -> Bool, group: inout DiscardingTaskGroup) async {
        let request: JSONRPC.Request
        switch parsed {
        case .failure(let failure): _ = send(JSONRPC.error(id: requestId, failure)); return
        case .success(let r): request = r
        }
        let limit = settings.maxInFlightPerClient
        guard load.inFlight.add(1, ordering: .relaxed).newValue <= limit else {
            load.inFlight.subtract(1, ordering: .relaxed)
            _ = send(JSONRPC.error(id: request.id, JSONRPC.Failure(EngineError(.limit, "this client already has \(limit) requests in flight (gateway.limits.maxInFlightPerClient)"))))
            return
        }
        // A method that only reads the engine answers here, in the reader: no task to start.
        if OperatorMethods.answersAtOnce.contains(request.method) {
            await perform(request, load: load, client: client, send: send)
        } else {
            group.addTask { await perform(request, load: load, client: client, send: send) }
        }
    }

    /// Runs one request and sends its answer (or, for a subscription, its stream).
    private func perform(_ request: JSONRPC.Request, load: Load, client: GatewayClient, send: @escaping @Sendable (JSON) -> Bool) async {
        let methods = self.methods, maxSubscriptions = settings.maxSubscriptionsPerClient
        defer { load.inFlight.subtract(1, ordering: .relaxed) }
        do throws(JSONRPC.Failure) {
            switch try await methods.call(request, from: client) {
            case .result(let result):
                if request.id != nil { _ = send(JSONRPC.result(id: request.id, result)) }
            case .stream(let result, let stream):
                guard load.subscriptions.add(1, ordering: .relaxed).newValue <= maxSubscriptions else {
                    load.subscriptions.subtract(1, ordering: .relaxed)
                    throw JSONRPC.Failure(EngineError(.limit, "this client already follows \(maxSubscriptions) runs (gateway.limits.maxSubscriptionsPerClient)"))
                }
                defer { load.subscriptions.subtract(1, ordering: .relaxed) }
                guard send(JSONRPC.result(id: request.id, result)) else { return }
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    methods.blocking.submit {
                        stream(send)
                        done.resume()
                    }
                }
            }
        } catch {
            if request.id != nil { _ = send(JSONRPC.error(id: request.id, error)) }
        }
    }

    /// Every heartbeat interval: a heartbeat request, or the client closed when it left too many unanswered.
    private func heartbeat(_ load: Load, _ send: @escaping @Sendable (JSON) -> Bool) async {
        let interval = Duration.milliseconds(settings.heartbeatIntervalMs)
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            switch methods.clients.heartbeatTick(id, maxMissed: settings.heartbeatMaxMissed) {
            case .send(let sequence)?:
                _ = send(.object([("jsonrpc", "2.0"), ("id", Heartbeat.id(sequence)), ("method", "heartbeat"),
                                  ("params", .object([("sentAt", JSON(WallClock.milliseconds()))]))]))
            case .close(let missed)?:
                Self.drop(load, channel, logger, "it left \(missed) heartbeats in a row unanswered (gateway.heartbeat.maxMissed)")
                return
            case nil: return
            }
        }
    }

    /// Closes the client's connection at once, remembering why (logged when its session ends).
    static func drop(_ load: Load, _ channel: any Channel, _ logger: Logger, _ reason: String) {
        load.dropReason.withLock { if $0 == nil { $0 = reason } }
        channel.close(promise: nil)
    }
}
