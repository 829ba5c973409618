// What a Swift plugin implements: who it is, and its lifecycle (entry.h).

/// A capability the plugin asks for in its descriptor (entry.h's PINCER_CAP_*).
public struct Capability: RawRepresentable, Hashable, Sendable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let sessionsSpawn = Capability(rawValue: "sessions.spawn")
    public static let sessionsRead = Capability(rawValue: "sessions.read")
    public static let sessionsPrompt = Capability(rawValue: "sessions.prompt")
    public static let sessionsSteer = Capability(rawValue: "sessions.steer")
    public static let sessionsDelete = Capability(rawValue: "sessions.delete")
    public static let sessionsMetadata = Capability(rawValue: "sessions.metadata")
    public static let rateLimit = Capability(rawValue: "rate_limit")
    public static let hostRead = Capability(rawValue: "host.read")
    public static let toolsRegister = Capability(rawValue: "tools.register")
    public static let hooksObserve = Capability(rawValue: "hooks.observe")
    public static let hooksGate = Capability(rawValue: "hooks.gate")
    /// ABI 1.1 (gateway.h): its own gateway methods and routes.
    public static let gatewayServe = Capability(rawValue: "gateway.serve")
}

/// Who the plugin is (pincer_plugin_descriptor). The kit adds language "swift" and its own sdk string.
public struct PluginDescriptor: Sendable {
    /// [a-z][a-z0-9_-]*, at most 32 characters; prefixes the plugin's tool names.
    public var id: String
    public var name: String
    public var version: String
    /// One sentence on what the plugin does.
    public var summary: String?
    public var capabilities: [Capability]

    public init(id: String, name: String, version: String, summary: String? = nil, capabilities: [Capability] = []) {
        self.id = id
        self.name = name
        self.version = version
        self.summary = summary
        self.capabilities = capabilities
    }
}

/// A Pincer plugin. The host creates one instance, through init(host:), on the loader
/// thread; start() and shutdown() come on that thread too (entry.h). Tools and hooks it
/// registers are called on other threads: keep shared state behind a lock.
public protocol Plugin: AnyObject, Sendable {
    static var descriptor: PluginDescriptor { get }

    /// The plugin's init: read config, register tools and hooks. What it throws refuses the
    /// plugin with that message, and the host withdraws what it registered.
    init(host: PincerHost) throws

    /// Every plugin's init succeeded and the engine accepts work: begin background work.
    func start()

    /// Stop and join your own threads. No callback of yours runs after this.
    func shutdown()

    /// The plugin's table for an extension id, or nil (the default) when it has none.
    func extensionTable(_ id: String) -> UnsafeRawPointer?
}

extension Plugin {
    public func start() {}
    public func shutdown() {}
    public func extensionTable(_ id: String) -> UnsafeRawPointer? { nil }
}
