// A model provider for any server that speaks OpenAI's chat completions API
// (OpenAI, vLLM, llama.cpp's server, Ollama, …): tools, and streamed replies
// whose text reaches the run as it arrives. One AsyncHTTPClient per provider
// (its connections pooled, on NIO's shared event loops), shut down with the
// engine that owns the provider. Configured by the operator
// (providers[] in the config file): a base URL, the model names it serves,
// an environment variable holding the API key. A transient failure before
// anything streamed (the server unreachable, HTTP 429 or 5xx) is retried a
// few times, after the server's Retry-After or a doubling pause. Every way
// the exchange can go wrong — those, once retries run out, an HTTP error,
// silence past the timeout, a stream that is not what the protocol says —
// becomes a run error naming the URL and what happened.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PincerCore
import Synchronization

public final class OpenAICompatibleProvider: ModelProvider {
    /// What providers[] in the operator's config says about one server (PincerCore keeps the
    /// type, so the config is read without this module).
    public typealias Settings = OpenAICompatibleSettings

    public let settings: Settings
    private let endpoint: URL
    private let apiKey: String?
    /// Made at the first request, so a host that never asks this provider starts no event loop.
    private let client = Mutex(ClientState.none)

    private enum ClientState {
        case none
        case running(HTTPClient)
        case shutDown
    }

    /// Fails when the URL is not http(s) or the API key's variable is not set, naming the setting.
    public init(_ settings: Settings, environment: [String: String] = ProcessInfo.processInfo.environment) throws(EngineError) {
        self.settings = settings
        let base = settings.baseURL.hasSuffix("/") ? String(settings.baseURL.dropLast()) : settings.baseURL
        guard let url = URL(string: base + "/chat/completions"), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw EngineError(.invalidArgument, "providers '\(settings.name)': baseURL '\(settings.baseURL)' is not an http(s) URL")
        }
        endpoint = url
        if let variable = settings.apiKeyEnv {
            guard let key = environment[variable], !key.isEmpty else {
                throw EngineError(.invalidArgument, "providers '\(settings.name)': the environment variable \(variable) (apiKeyEnv) is not set")
            }
            apiKey = key
        } else {
            apiKey = nil
        }
    }

    /// The provider's one client, made at its first request.
    private func httpClient() throws(ModelFailure) -> HTTPClient {
        try client.withLock { state throws(ModelFailure) -> HTTPClient in
            switch state {
            case .running(let client): return client
            case .shutDown: throw ModelFailure("provider '\(settings.name)' was shut down")
            case .none:
                // The exchange enforces the idle timeout itself; the client bounds only connecting,
                // and reports a refused connection at once (respond() retries, with its own pauses).
                var configuration = HTTPClient.Configuration(timeout: .init(connect: .milliseconds(Int64(settings.timeoutSeconds * 1000)), read: nil))
                configuration.connectionPool.retryConnectionEstablishment = false
                let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
                state = .running(client)
                return client
            }
        }
    }

    /// Closes the client's connections; a turn asked of it afterwards fails. Idempotent.
    public func shutdown() {
        let running = client.withLock { state -> HTTPClient? in
            defer { state = .shutDown }
            if case .running(let client) = state { return client }
            return nil
        }
        try? running?.syncShutdown()
    }

    deinit {
        // An engine that was never closed: let the client go without blocking here.
        if case .running(let client) = client.withLock({ $0 }) { _ = client.shutdown() }
    }

    public var models: [ModelDescriptor] {
        settings.models.map {
            ModelDescriptor(id: "\(settings.name)/\($0)", provider: settings.name,
                            description: "\($0) at \(settings.baseURL)", supportsTools: true, streams: true,
                            contextWindow: settings.contextWindows[$0])
        }
    }

    public func respond(to request: ModelRequest, context: TurnContext) throws -> ModelTurn {
        let model = String(request.model.dropFirst(settings.name.count + 1))
        let names = ChatCompletionsWire.ToolNames(request.tools)
        let body = try ChatCompletionsWire.requestBody(model: model, transcript: request.transcript, tools: request.tools,
                                                       names: names, stream: true)
        var headers = HTTPHeaders([("Content-Type", "application/json"), ("Accept", "text/event-stream")])
        if let apiKey { headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        let http = try HTTPClient.Request(url: endpoint, method: .POST, headers: headers, body: .bytes(body))
        var attempt = 1
        while true {
            do {
                return try exchange(http, names: names, context: context)
            } catch let failure as TransientFailure {
                guard attempt <= settings.maxRetries else {
                    throw ModelFailure("\(failure.message) (gave up after \(attempt) attempt\(attempt == 1 ? "" : "s"); maxRetries of provider '\(settings.name)' is \(settings.maxRetries))")
                }
                // The server's word, else 0.5 s, 1 s, 2 s, … (at most 8 s); a cancelled run stops waiting.
                let seconds = failure.retryAfterSeconds ?? 0.5 * Double(1 << min(attempt - 1, 4))
                try context.pause(UInt64(seconds * 1e9))
                attempt += 1
            }
        }
    }

    /// A transport error in words: a system call's failure as the system says it ("Connection refused").
    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        return "\(error)"
    }

    /// A failure worth another attempt: nothing reached the run yet, and the server may recover.
    private struct TransientFailure: Error {
        let message: String
        /// From the server's Retry-After (capped at 30 s); nil means the doubling pause.
        let retryAfterSeconds: Double?
    }

    /// One request and its streamed answer. The worker waits for what arrives, for the run's
    /// stop (onStop wakes it and cancels the request) or for the earlier of the idle timeout
    /// and the run's deadline; pause(0) then says whether the run must end.
    private func exchange(_ http: HTTPClient.Request, names: ChatCompletionsWire.ToolNames, context: TurnContext) throws -> ModelTurn {
        let response = StreamedResponse()
        let task = try httpClient().execute(request: http, delegate: response)
        let withdraw = context.onStop {
            response.stop()
            task.cancel()
        }
        defer {
            withdraw()
            if !response.hasEnded { task.cancel() }
        }
        var assembler = ChatCompletionsWire.TurnAssembler()
        var events = ServerSentEvents()
        var streaming = true, status = 0
        // The body when it is not a stream: an error's, or one whole completion.
        var unstreamed: [UInt8] = []
        let idleNs = UInt64(settings.timeoutSeconds * 1e9)
        var lastHeardNs = MonotonicClock.nanoseconds()
        var done = false
        var retryAfter: Double?
        while true {
            // A cancelled or timed-out run ends the request here.
            try context.pause(0)
            guard let event = response.next(until: min(lastHeardNs &+ idleNs, context.deadlineNs)) else {
                try context.pause(0)
                if MonotonicClock.nanoseconds() >= lastHeardNs &+ idleNs {
                    throw ModelFailure("\(endpoint.absoluteString) sent nothing for \(Int(settings.timeoutSeconds)) s (timeoutSeconds of provider '\(settings.name)')")
                }
                continue
            }
            lastHeardNs = MonotonicClock.nanoseconds()
            switch event {
            case .failure(let error):
                try context.pause(0) // a stop cancelled the request: the stop is the reason
                let message = "cannot reach \(endpoint.absoluteString): \(OpenAICompatibleProvider.describe(error))"
                if status == 0 { throw TransientFailure(message: message, retryAfterSeconds: nil) }
                throw ModelFailure(message)
            case .head(let code, let contentType, let header):
                status = code
                streaming = contentType.lowercased().hasPrefix("text/event-stream")
                retryAfter = header.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }.map { min(max($0, 0), 30) }
            case .bytes(let data):
                guard (200..<300).contains(status), streaming else {
                    if unstreamed.count < 1 << 20 { unstreamed.append(contentsOf: data) }
                    continue
                }
                for text in events.feed(data) {
                    if text == "[DONE]" { done = true; continue }
                    let chunk: ChatCompletionsWire.Chunk
                    do { chunk = try ChatCompletionsWire.chunk(text) } catch {
                        throw ModelFailure("malformed stream from \(endpoint.absoluteString): an event \(error): \(text.prefix(200))")
                    }
                    let piece = try assembler.add(chunk)
                    if !piece.isEmpty { try context.emit(piece) }
                }
            case .end:
                if !(200..<300).contains(status) {
                    let message = "HTTP \(status) from \(endpoint.absoluteString): \(ChatCompletionsWire.errorMessage(unstreamed))"
                    if status == 429 || (500...504).contains(status) { throw TransientFailure(message: message, retryAfterSeconds: retryAfter) }
                    throw ModelFailure(message)
                }
                if !streaming {
                    // A server that answered with one whole completion instead of a stream.
                    do { _ = try assembler.add(try ChatCompletionsWire.chunk(String(decoding: unstreamed, as: UTF8.self))) } catch {
                        throw ModelFailure("malformed response from \(endpoint.absoluteString): \(error)")
                    }
                    if !assembler.text.isEmpty { try context.emit(assembler.text) }
                } else if !done, assembler.finishReason == nil {
                    throw ModelFailure("the stream from \(endpoint.absoluteString) ended before the model finished (no finish_reason, no [DONE])")
                }
                return try assembler.turn(names: names)
            }
        }
    }
}
