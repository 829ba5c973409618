// Everything the host knows about one loaded plugin while it runs: who it is,
// what it may do, its own rate limiter and config. Host calls are attributed
// through this object, never through anything the plugin says about itself.

import PincerCore
import Synchronization

/// Capability ids of entry.h, as flags.
struct Capabilities: OptionSet, Sendable {
    let rawValue: UInt32
    static let spawn = Capabilities(rawValue: 1 << 0)
    static let control = Capabilities(rawValue: 1 << 1)
    static let steer = Capabilities(rawValue: 1 << 2)
    static let rateLimit = Capabilities(rawValue: 1 << 3)
    static let hostRead = Capabilities(rawValue: 1 << 4)
    static let registerTools = Capabilities(rawValue: 1 << 5)
    static let registerHooks = Capabilities(rawValue: 1 << 6)

    static let byId: [(String, Capabilities)] = [
        ("sessions.spawn", .spawn), ("sessions.control", .control), ("sessions.steer", .steer),
        ("rate_limit", .rateLimit), ("host.read", .hostRead), ("tools.register", .registerTools),
        ("hooks.register", .registerHooks),
    ]

    static func id(of capability: Capabilities) -> String {
        byId.first { $0.1 == capability }?.0 ?? "unknown"
    }
}

public enum PluginLogLevel: Int32, Sendable {
    case debug = 0, info, warn, error

    public var label: String { ["debug", "info", "warn", "error"][Int(rawValue)] }
}

final class PluginContext: @unchecked Sendable {
    enum Phase: UInt8 {
        case initializing = 0, live = 1, shutDown = 2
    }

    let id: String
    let file: String
    let engine: Engine
    let capabilities: Capabilities
    let limiter: SlidingWindowLimiter
    let configJSON: String
    let log: @Sendable (String, PluginLogLevel, String) -> Void
    /// The plugin's number in the engine's session index, and whether it may reach
    /// sessions it did not create: the is_streaming fast path checks ownership with these.
    let callerNumber: UInt32
    let fullSessionAccess: Bool
    private let phaseValue = Atomic<UInt8>(Phase.initializing.rawValue)

    init(id: String, file: String, engine: Engine, capabilities: Capabilities, configJSON: String,
         log: @escaping @Sendable (String, PluginLogLevel, String) -> Void)
    {
        self.id = id
        self.file = file
        self.engine = engine
        self.capabilities = capabilities
        self.configJSON = configJSON
        self.log = log
        limiter = engine.rateLimiter(forPlugin: id)
        callerNumber = engine.number(of: .plugin(id))
        fullSessionAccess = engine.hasFullSessionAccess(.plugin(id))
    }

    var phase: Phase {
        get { Phase(rawValue: phaseValue.load(ordering: .acquiring)) ?? .shutDown }
        set { phaseValue.store(newValue.rawValue, ordering: .releasing) }
    }

    var caller: Caller { .plugin(id) }
}
