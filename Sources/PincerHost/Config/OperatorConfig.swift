// The operator's config file (JSON): which plugins may load, what each may do,
// its own config, and the engine's guard limits. Unknown keys and wrong types
// are errors that name the file and the setting, so a typo never silently
// changes what a plugin may do.
//
// {
//   "plugins": {
//     "allow": ["id", …],            only these ids load (absent = all)
//     "deny":  ["id", …],            these never load (wins over allow)
//     "strict": false,               true: an unknown capability or an entry for no
//                                    loaded plugin is a refusal, not a warning
//     "drainTimeoutMs": 5000,        how long a stopping plugin's running callbacks get
//     "allowAcpSpawn": false,        true: plugins may use external agents (models "acp/…")
//     "entries": { "<id>": {
//         "enabled": true,           false = refused at load
//         "required": false,         true: the host does not start without it (a policy
//                                    plugin refused or missing fails closed)
//         "path": "/abs/file.so",    the entry applies only to this file …
//         "sha256": "…",             … with this content (else the plugin is refused)
//         "capabilities": ["…"],     grants: narrows what the descriptor asked for
//         "sessionAccess": "own",    "all": reach sessions other callers created
//         "allowModelOverride": false,  true: spawn may name a model
//         "allowedModels": ["…"],    …but only these
//         "useOtherPluginsTools": false,  true: its sessions may use other plugins' tools
//         "allowAcpSpawn": true,     false: never this plugin (it can only narrow plugins.allowAcpSpawn)
//         "config": { … } } }        handed to the plugin by host->get_config
//   },
//   "tools": { "allow": ["…"], "deny": ["…"] },   the host's tool policy: every
//                                  session's own policy can only narrow it
//   "guards": { "maxConcurrentRuns": 256,   sessions with a run at work, all callers
//               "maxConcurrentSpawns": 10, "maxSpawnsPerMinute": 20,   plugins' spawns
//               "maxConcurrentChildSessions": 10 },   children the operator's sessions spawn
//   "hooks": { "defaultDeadlineMs": 1000 },  a hook's deadline when it asks for none
//   "engine": { "defaultModel": "local/scripted", "tokenDelayMs": 5,
//               "defaultRunTimeoutSeconds": 300, "maxTurns": 16,
//               "compactionBudgetChars": 200000,
//               "retainedRuns": 10000,     ended runs kept for wait() and listings, and in the store
//               "maxSessions": 100000,     sessions held; past it the largest holder's least recently active idle go
//               "workspaceDir": "…" },       hooks are told it (default: the current directory)
//   "rateLimit": { "maxKeysPerPlugin": 100000 },
//   "log": { "level": "info", "plugins": "info" },   the lowest level printed: the host's
//                                  lines, and plugins' (trace debug info notice warning error critical)
//   "providers": [ { "name": "openai", "baseURL": "https://api.openai.com/v1",
//                    "models": ["gpt-4o-mini", {"name": "gpt-4o", "contextWindow": 128000}],
//                    "apiKeyEnv": "OPENAI_API_KEY",
//                    "timeoutSeconds": 60, "maxRetries": 2 } ]   OpenAI-compatible servers; their
//                                  models are "<name>/<model>" in the catalog
//   "gateway": { … }                `pincer serve`: listen address, token, heartbeat, limits
//                                  (GatewaySettings.swift lists them)
//   "acp": { "agents": { "<name>": { "command": "/abs/agent", "args": ["…"], "env": {"K": "V"},
//                                   "terminal": false, "terminalOutputBytes": 1048576 } },
//            "maxConcurrentAgents": 4 }   external coding agents over ACP, models "acp/<name>"
// }

import CPincer
import Foundation
import Logging
import PincerACP
import PincerCore

/// Makes the model provider for one providers[] entry. PincerHost carries no network stack:
/// a program that has one hands this in (pincer-server and the tests, with PincerOpenAI's
/// OpenAICompatibleProvider.init), so `pincer`'s commands start without loading it.
public typealias NetworkProviderFactory = @Sendable (OpenAICompatibleSettings) throws(EngineError) -> any ModelProvider

public struct OperatorConfig: Sendable {
    public struct PluginEntry: Sendable {
        public var enabled = true
        /// The host refuses to start unless this plugin loads (a policy plugin fails closed).
        public var required = false
        /// nil: every capability the descriptor asks for is granted.
        public var capabilities: [String]?
        public var config: JSON = .object([])
        public var sessionAccessAll = false
        public var allowModelOverride = false
        public var allowedModels: [String]?
        public var useOtherPluginsTools = false
        /// The file the entry is bound to, by path and/or SHA-256 (lower-case hex).
        public var path: String?
        public var sha256: String?
    }

    public var allow: [String]?
    public var deny: [String] = []
    public var entries: [String: PluginEntry] = [:]
    /// Unknown capabilities and entries for no loaded plugin are refusals, not warnings.
    public var strict = false
    /// How long a stopping plugin's running callbacks get before shutdown() is called anyway.
    public var drainTimeoutMs = 5000
    /// The lowest level of the host's own lines that is printed (log.level).
    public var logLevel: Logger.Level = .info
    /// The lowest level of plugins' lines that is printed (log.plugins).
    public var pluginLogLevel: Logger.Level = .info
    public var engine: EngineConfig = {
        var engine = EngineConfig()
        engine.hostVersion = PincerVersion.host
        engine.abiVersion = PincerVersion.abi
        return engine
    }()
    /// OpenAI-compatible servers whose models join the catalog beside the local model (providers[]).
    public var providers: [OpenAICompatibleSettings] = []
    /// What `pincer serve` listens on and how it bounds its clients (gateway).
    public var gateway = GatewaySettings()
    /// External coding agents over ACP (acp.agents), and how many may run at once.
    public var acpAgents: [ACPAgentSettings] = []
    public var maxConcurrentAgents = 4

    /// The engine's catalog as this config asks: the built-in local model, then one
    /// OpenAI-compatible provider (one HTTP client) per providers[] entry, made by `network`.
    /// The engine they are handed to owns them and shuts them down when it closes.
    public func modelProviders(network: NetworkProviderFactory?) throws(EngineError) -> [any ModelProvider] {
        var all: [any ModelProvider] = [LocalModel(tokenDelayMs: engine.tokenDelayMs)]
        if !providers.isEmpty {
            guard let network else {
                throw EngineError(.unsupported, "providers[] names OpenAI-compatible servers (\(providers.map(\.name).joined(separator: ", "))), but this program carries no network stack (pincer-server does; a library user hands makeEngine a NetworkProviderFactory)")
            }
            for settings in providers { all.append(try network(settings)) }
        }
        if !acpAgents.isEmpty {
            all.append(ACPProvider(agents: acpAgents, maxConcurrentAgents: maxConcurrentAgents))
        }
        return all
    }

    /// An engine as this config asks: its settings and its catalog (modelProviders), over
    /// `store` (nil: sessions in memory only).
    public func makeEngine(store: (any SessionStore)? = nil, network: NetworkProviderFactory? = nil) throws(EngineError) -> Engine {
        try Engine(config: engine, providers: try modelProviders(network: network), store: store)
    }

    public init() {}

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads and checks a config file.
    public static func load(path: String) throws(Invalid) -> OperatorConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(description: "\(path): cannot read the config file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Invalid(description: "\(path): the config file is not UTF-8 text")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String) throws(Invalid) -> OperatorConfig {
        let root: JSON
        do { root = try JSON.parse(text) } catch { throw Invalid(description: "\(source): \(error)") }
        var reader = Reader(source: source)
        return try reader.config(root)
    }

    /// Why this plugin id may not load, or nil when it may.
    func refusal(for id: String) -> String? {
        if deny.contains(id) { return "denied by operator config (plugins.deny contains '\(id)')" }
        if let allow, !allow.contains(id) { return "not allowed by operator config (plugins.allow does not list '\(id)')" }
        if entries[id]?.enabled == false { return "disabled by operator config (plugins.entries.\(id).enabled = false)" }
        return nil
    }

    private struct Reader {
        let source: String

        func fail(_ path: String, _ message: String) -> Invalid { Invalid(description: "\(source): \(path) \(message)") }

        func object(_ value: JSON, _ path: String, keys: [String]) throws(Invalid) -> [(String, JSON)] {
            guard let members = value.objectValue else { throw fail(path, "must be an object, not a \(value.typeName)") }
            for (key, _) in members where !keys.contains(key) {
                throw fail(path.isEmpty ? key : "\(path).\(key)", "is not a known setting (known here: \(keys.joined(separator: ", ")))")
            }
            return members
        }

        func strings(_ value: JSON, _ path: String) throws(Invalid) -> [String] {
            guard let items = value.arrayValue else { throw fail(path, "must be an array of strings, not a \(value.typeName)") }
            var out: [String] = []
            for (i, item) in items.enumerated() {
                guard let s = item.stringValue else { throw fail("\(path)[\(i)]", "must be a string, not a \(item.typeName)") }
                out.append(s)
            }
            return out
        }

        func count(_ value: JSON, _ path: String, min: Int = 0, max: Int = 1_000_000_000) throws(Invalid) -> Int {
            guard let n = value.wholeNumber, n >= min, n <= max else {
                throw fail(path, "must be a whole number from \(min) to \(max), not \(value)")
            }
            return n
        }

        mutating func config(_ root: JSON) throws(Invalid) -> OperatorConfig {
            var config = OperatorConfig()
            for (key, value) in try object(root, "", keys: ["plugins", "tools", "guards", "hooks", "engine", "rateLimit", "providers", "log", "gateway", "acp"]) {
                switch key {
                case "log":
                    for (k, v) in try object(value, "log", keys: ["level", "plugins"]) {
                        let names = Logger.Level.allCases.map(\.rawValue)
                        guard let name = v.stringValue, let level = Logger.Level(rawValue: name) else {
                            throw fail("log.\(k)", "must be one of \(names.joined(separator: ", ")), not \(v)")
                        }
                        if k == "level" { config.logLevel = level } else { config.pluginLogLevel = level }
                    }
                case "plugins": try plugins(value, into: &config)
                case "gateway": config.gateway = try gateway(value)
                case "acp": try acp(value, into: &config)
                case "tools":
                    var allow: [String] = [], deny: [String] = []
                    for (k, v) in try object(value, "tools", keys: ["allow", "deny"]) {
                        if k == "allow" { allow = try strings(v, "tools.allow") } else { deny = try strings(v, "tools.deny") }
                    }
                    config.engine.toolPolicy = ToolPolicy(allow: allow, deny: deny)
                case "guards":
                    for (k, v) in try object(value, "guards", keys: ["maxConcurrentRuns", "maxConcurrentSpawns", "maxSpawnsPerMinute", "maxConcurrentChildSessions"]) {
                        let n = try count(v, "guards.\(k)", min: k == "maxConcurrentRuns" ? 1 : 0, max: 65535)
                        switch k {
                        case "maxConcurrentRuns": config.engine.maxConcurrentRuns = n
                        case "maxConcurrentSpawns": config.engine.maxConcurrentSpawns = n
                        case "maxSpawnsPerMinute": config.engine.maxSpawnsPerMinute = n
                        default: config.engine.maxConcurrentChildSessions = n
                        }
                    }
                case "hooks":
                    for (_, v) in try object(value, "hooks", keys: ["defaultDeadlineMs"]) {
                        config.engine.hookDeadlineMs = UInt32(try count(v, "hooks.defaultDeadlineMs", min: 1, max: Int(PINCER_HOOK_MAX_DEADLINE_MS)))
                    }
                case "engine":
                    for (k, v) in try object(value, "engine", keys: ["defaultModel", "tokenDelayMs", "defaultRunTimeoutSeconds", "maxTurns", "compactionBudgetChars",
                                                                       "retainedRuns", "maxSessions", "workspaceDir"]) {
                        switch k {
                        case "workspaceDir":
                            guard let s = v.stringValue, s.hasPrefix("/") else { throw fail("engine.workspaceDir", "must be an absolute path") }
                            config.engine.workspaceDir = s
                        case "defaultModel":
                            guard let s = v.stringValue else { throw fail("engine.defaultModel", "must be a string") }
                            config.engine.defaultModel = s
                        case "tokenDelayMs": config.engine.tokenDelayMs = try count(v, "engine.tokenDelayMs", max: 60_000)
                        case "defaultRunTimeoutSeconds":
                            config.engine.defaultRunTimeoutSeconds = try count(v, "engine.defaultRunTimeoutSeconds", min: 1, max: 7 * 24 * 3600)
                        case "compactionBudgetChars":
                            config.engine.compactionBudgetChars = try count(v, "engine.compactionBudgetChars", min: 100, max: 1_000_000_000)
                        case "retainedRuns": config.engine.retainedRuns = try count(v, "engine.retainedRuns", min: 1, max: 10_000_000)
                        case "maxSessions": config.engine.maxSessions = try count(v, "engine.maxSessions", min: 1, max: 10_000_000)
                        default: config.engine.maxTurns = try count(v, "engine.maxTurns", min: 1, max: 1000)
                        }
                    }
                case "providers":
                    guard let list = value.arrayValue else { throw fail("providers", "must be an array of objects") }
                    for (i, entry) in list.enumerated() { config.providers.append(try provider(entry, "providers[\(i)]")) }
                default:
                    for (_, v) in try object(value, "rateLimit", keys: ["maxKeysPerPlugin"]) {
                        config.engine.rateLimitMaxKeysPerPlugin = try count(v, "rateLimit.maxKeysPerPlugin", min: 1, max: 100_000_000)
                    }
                }
            }
            return config
        }

        func acp(_ value: JSON, into config: inout OperatorConfig) throws(Invalid) {
            for (key, v) in try object(value, "acp", keys: ["agents", "maxConcurrentAgents"]) {
                if key == "maxConcurrentAgents" {
                    config.maxConcurrentAgents = try count(v, "acp.maxConcurrentAgents", min: 1, max: 1024)
                    continue
                }
                guard let agents = v.objectValue else { throw fail("acp.agents", "must be an object keyed by agent name") }
                for (name, entry) in agents {
                    let path = "acp.agents.\(name)"
                    guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }) else {
                        throw fail(path, "names an agent: use [a-z0-9_-]")
                    }
                    var command: String?, arguments: [String] = [], environment: [String: String] = [:]
                    var terminal = false, terminalOutputBytes = 1 << 20
                    for (k, field) in try object(entry, path, keys: ["command", "args", "env", "terminal", "terminalOutputBytes"]) {
                        switch k {
                        case "terminal":
                            guard let b = field.boolValue else { throw fail("\(path).terminal", "must be true or false, not a \(field.typeName)") }
                            terminal = b
                        case "terminalOutputBytes": terminalOutputBytes = try count(field, "\(path).terminalOutputBytes", min: 1, max: 64 << 20)
                        case "command":
                            guard let s = field.stringValue, s.hasPrefix("/") else { throw fail("\(path).command", "must be an absolute path") }
                            command = s
                        case "args": arguments = try strings(field, "\(path).args")
                        default:
                            guard let members = field.objectValue else { throw fail("\(path).env", "must be an object of strings") }
                            for (name, value) in members {
                                guard let s = value.stringValue else { throw fail("\(path).env.\(name)", "must be a string") }
                                environment[name] = s
                            }
                        }
                    }
                    guard let command else { throw fail("\(path).command", "is required") }
                    var agent = ACPAgentSettings(name: name, command: command, arguments: arguments, environment: environment)
                    agent.hostVersion = PincerVersion.host
                    (agent.terminal, agent.terminalOutputBytes) = (terminal, terminalOutputBytes)
                    config.acpAgents.append(agent)
                }
            }
            config.acpAgents.sort { $0.name < $1.name }
        }

        func gateway(_ value: JSON) throws(Invalid) -> GatewaySettings {
            var settings = GatewaySettings()
            for (k, v) in try object(value, "gateway", keys: ["listen", "token", "tokenEnv", "heartbeat", "limits", "shutdownGraceMs",
                                                              "pluginReplyTimeoutMs", "aliases"]) {
                switch k {
                case "pluginReplyTimeoutMs": settings.pluginReplyTimeoutMs = try count(v, "gateway.pluginReplyTimeoutMs", min: 1, max: 3_600_000)
                case "aliases":
                    guard let members = v.objectValue else { throw fail("gateway.aliases", "must be an object: {\"/well-known/path\": \"/plugins/<plugin-id>/…\"}") }
                    for (alias, target) in members {
                        guard alias.hasPrefix("/"), !alias.hasPrefix("/plugins/"), alias != "/rpc", alias != "/healthz", alias != "/metrics" else {
                            throw fail("gateway.aliases", "'\(alias)' must be an absolute path outside /plugins/ and not one of the gateway's own (/rpc, /healthz, /metrics)")
                        }
                        guard let path = target.stringValue, path.hasPrefix("/plugins/") else {
                            throw fail("gateway.aliases.\(alias)", "must name a plugin route, \"/plugins/<plugin-id>/…\", not \(target)")
                        }
                        settings.aliases[alias] = path
                    }
                case "listen":
                    guard let address = v.stringValue.flatMap(GatewaySettings.listenAddress) else {
                        throw fail("gateway.listen", "must be \"host:port\" (e.g. \"127.0.0.1:7420\"), not \(v)")
                    }
                    (settings.listenHost, settings.listenPort) = address
                case "token", "tokenEnv":
                    guard let s = v.stringValue, !s.isEmpty else { throw fail("gateway.\(k)", "must be a non-empty string") }
                    if k == "token" { settings.token = s } else { settings.tokenEnv = s }
                case "heartbeat":
                    for (hk, hv) in try object(v, "gateway.heartbeat", keys: ["intervalMs", "maxMissed"]) {
                        if hk == "intervalMs" {
                            settings.heartbeatIntervalMs = try count(hv, "gateway.heartbeat.intervalMs", min: 50, max: 3_600_000)
                        } else {
                            settings.heartbeatMaxMissed = try count(hv, "gateway.heartbeat.maxMissed", min: 1, max: 1000)
                        }
                    }
                case "limits":
                    let keys = ["maxConnections", "maxWebSocketClients", "maxRequestBytes", "maxFrameBytes", "maxInFlightPerClient",
                                "maxOutboundQueue", "maxSubscriptionsPerClient"]
                    for (lk, lv) in try object(v, "gateway.limits", keys: keys) {
                        let n = try count(lv, "gateway.limits.\(lk)", min: 1, max: lk.hasSuffix("Bytes") ? 64 << 20 : 1_000_000)
                        switch lk {
                        case "maxConnections": settings.maxConnections = n
                        case "maxWebSocketClients": settings.maxWebSocketClients = n
                        case "maxRequestBytes": settings.maxRequestBytes = n
                        case "maxFrameBytes": settings.maxFrameBytes = n
                        case "maxInFlightPerClient": settings.maxInFlightPerClient = n
                        case "maxOutboundQueue": settings.maxOutboundQueue = n
                        default: settings.maxSubscriptionsPerClient = n
                        }
                    }
                default: settings.shutdownGraceMs = try count(v, "gateway.shutdownGraceMs", max: 600_000)
                }
            }
            if settings.token != nil, settings.tokenEnv != nil { throw fail("gateway.token", "and gateway.tokenEnv are both set; keep one") }
            return settings
        }

        func provider(_ value: JSON, _ path: String) throws(Invalid) -> OpenAICompatibleSettings {
            var name: String?, baseURL: String?, models: [String] = [], contextWindows: [String: Int] = [:], apiKeyEnv: String?
            var timeout = 60.0, retries = 2
            for (k, v) in try object(value, path, keys: ["name", "baseURL", "models", "apiKeyEnv", "timeoutSeconds", "maxRetries"]) {
                switch k {
                case "models":
                    guard let list = v.arrayValue else { throw fail("\(path).models", "must be an array of model names or {\"name\", \"contextWindow\"} objects") }
                    for (i, item) in list.enumerated() {
                        let (model, window) = try providerModel(item, "\(path).models[\(i)]")
                        models.append(model)
                        contextWindows[model] = window
                    }
                case "timeoutSeconds": timeout = Double(try count(v, "\(path).timeoutSeconds", min: 1, max: 3600))
                case "maxRetries": retries = try count(v, "\(path).maxRetries", max: 10)
                default:
                    guard let s = v.stringValue, !s.isEmpty else { throw fail("\(path).\(k)", "must be a non-empty string") }
                    if k == "name" { name = s } else if k == "baseURL" { baseURL = s } else { apiKeyEnv = s }
                }
            }
            guard let name, !name.contains("/") else { throw fail("\(path).name", "is required, without '/'") }
            guard let baseURL else { throw fail("\(path).baseURL", "is required") }
            guard !models.isEmpty else { throw fail("\(path).models", "must name at least one model") }
            return OpenAICompatibleSettings(name: name, baseURL: baseURL, models: models, contextWindows: contextWindows,
                                                     apiKeyEnv: apiKeyEnv,
                                                     timeoutSeconds: timeout, maxRetries: retries)
        }

        /// A providers[].models item: a model name, or {"name", "contextWindow"}.
        func providerModel(_ item: JSON, _ path: String) throws(Invalid) -> (name: String, contextWindow: Int?) {
            if let name = item.stringValue, !name.isEmpty { return (name, nil) }
            var name: String?, window: Int?
            for (k, v) in try object(item, path, keys: ["name", "contextWindow"]) {
                if k == "name" {
                    guard let s = v.stringValue, !s.isEmpty else { throw fail("\(path).name", "must be a non-empty string") }
                    name = s
                } else {
                    window = try count(v, "\(path).contextWindow", min: 1, max: 100_000_000)
                }
            }
            guard let name else { throw fail(path, "must be a model name or an object with \"name\"") }
            return (name, window)
        }

        func plugins(_ value: JSON, into config: inout OperatorConfig) throws(Invalid) {
            for (key, value) in try object(value, "plugins", keys: ["allow", "deny", "strict", "drainTimeoutMs", "entries", "allowAcpSpawn"]) {
                switch key {
                case "allowAcpSpawn":
                    guard let b = value.boolValue else { throw fail("plugins.allowAcpSpawn", "must be true or false, not a \(value.typeName)") }
                    config.engine.allowAcpSpawn = b
                case "allow": config.allow = try strings(value, "plugins.allow")
                case "deny": config.deny = try strings(value, "plugins.deny")
                case "strict":
                    guard let b = value.boolValue else { throw fail("plugins.strict", "must be true or false, not a \(value.typeName)") }
                    config.strict = b
                case "drainTimeoutMs": config.drainTimeoutMs = try count(value, "plugins.drainTimeoutMs", max: 60_000)
                default:
                    guard let entries = value.objectValue else { throw fail("plugins.entries", "must be an object keyed by plugin id") }
                    for (id, entryValue) in entries {
                        let path = "plugins.entries.\(id)"
                        var entry = PluginEntry()
                        for (k, v) in try object(entryValue, path, keys: ["enabled", "required", "capabilities", "sessionAccess", "allowModelOverride", "allowedModels", "useOtherPluginsTools", "path", "sha256", "config", "allowAcpSpawn"]) {
                            switch k {
                            case "enabled":
                                guard let b = v.boolValue else { throw fail("\(path).enabled", "must be true or false, not a \(v.typeName)") }
                                entry.enabled = b
                            case "required":
                                guard let b = v.boolValue else { throw fail("\(path).required", "must be true or false, not a \(v.typeName)") }
                                entry.required = b
                            case "capabilities":
                                let caps = try strings(v, "\(path).capabilities")
                                for cap in caps where !Capabilities.byId.contains(where: { $0.0 == cap }) {
                                    throw fail("\(path).capabilities", "names unknown capability '\(cap)' (known: \(Capabilities.byId.map(\.0).joined(separator: ", ")))")
                                }
                                entry.capabilities = caps
                            case "sessionAccess":
                                guard let mode = v.stringValue, mode == "own" || mode == "all" else {
                                    throw fail("\(path).sessionAccess", "must be \"own\" or \"all\", not \(v)")
                                }
                                entry.sessionAccessAll = mode == "all"
                            case "allowModelOverride":
                                guard let b = v.boolValue else { throw fail("\(path).allowModelOverride", "must be true or false, not a \(v.typeName)") }
                                entry.allowModelOverride = b
                            case "allowedModels":
                                entry.allowedModels = try strings(v, "\(path).allowedModels")
                            case "path":
                                guard let file = v.stringValue, file.hasPrefix("/") else { throw fail("\(path).path", "must be an absolute path") }
                                entry.path = file
                            case "sha256":
                                guard let hex = v.stringValue?.lowercased(), hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
                                    throw fail("\(path).sha256", "must be 64 hexadecimal digits")
                                }
                                entry.sha256 = hex
                            case "allowAcpSpawn":
                                guard let b = v.boolValue else { throw fail("\(path).allowAcpSpawn", "must be true or false, not a \(v.typeName)") }
                                if !b { config.engine.acpSpawnDenied.insert(id) }
                            case "useOtherPluginsTools":
                                guard let b = v.boolValue else { throw fail("\(path).useOtherPluginsTools", "must be true or false, not a \(v.typeName)") }
                                entry.useOtherPluginsTools = b
                            default:
                                guard case .object = v else { throw fail("\(path).config", "must be an object, not a \(v.typeName)") }
                                entry.config = v
                            }
                        }
                        if entry.allowedModels != nil, !entry.allowModelOverride {
                            throw fail("\(path).allowedModels", "has no effect unless \(path).allowModelOverride is true")
                        }
                        config.entries[id] = entry
                        if entry.sessionAccessAll { config.engine.fullSessionAccess.insert(id) }
                        if entry.useOtherPluginsTools { config.engine.otherPluginsTools.insert(id) }
                        if entry.allowModelOverride { config.engine.modelOverrides[id] = .some(entry.allowedModels) }
                    }
                }
            }
        }
    }
}
