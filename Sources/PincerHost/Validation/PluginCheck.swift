// The checks `pincer validate` runs on one plugin file, in order, and what
// each verdict looks like. Each check runs in a process of its own (the CLI
// starts one per check), so a plugin that crashes or hangs fails the check it
// crashed in; a check whose prerequisite failed is skipped, naming it.

import PincerCore

public enum PluginCheck: String, CaseIterable, Sendable {
    case file, exports, loads, entry, version, descriptor, functions, capabilities
    case lifecycle, reinit, registrations, hooks, tools
    case afterShutdown = "after-shutdown"
    case threads, runs

    /// What the check verifies, as the report prints it.
    public var summary: String {
        switch self {
        case .file: return "an ELF shared object"
        case .exports: return "exports the entry and no other global symbol (nm -D --defined-only)"
        case .loads: return "dlopen(RTLD_NOW) succeeds: dependencies resolve, constructors return"
        case .entry: return "pincer_plugin_get or pincer_plugin is there and gives an entry"
        case .version: return "built for an ABI version this host loads"
        case .descriptor: return "entry and descriptor well-formed and within their limits"
        case .capabilities: return "asks only for capabilities this host knows"
        case .functions: return "init and shutdown are set"
        case .lifecycle: return "init, start and shutdown succeed in a real host, shutdown within the drain bound"
        case .reinit: return "a fresh load in a new process inits again and registers the same"
        case .registrations: return "every tool and hook it registers is accepted"
        case .hooks: return "its hooks answer valid decisions within their deadlines on synthetic events"
        case .tools: return "its tools answer host-allocated UTF-8 with a known code"
        case .afterShutdown: return "nothing calls the host after shutdown returned"
        case .threads: return "no thread of its own still runs after shutdown"
        case .runs: return "no run of its sessions is left active after shutdown"
        }
    }

    /// Checks that must have passed (or warned) for this one to mean anything.
    public var requires: [PluginCheck] {
        switch self {
        case .file: return []
        case .exports, .loads: return [.file]
        case .entry: return [.loads]
        case .version: return [.entry]
        case .descriptor: return [.version]
        case .functions: return [.descriptor]
        case .capabilities: return [.functions]
        case .lifecycle: return [.capabilities]
        case .reinit, .registrations, .hooks, .tools, .afterShutdown, .threads, .runs: return [.lifecycle]
        }
    }
}

/// One check's verdict.
public struct CheckOutcome: Sendable, Equatable {
    public enum Status: String, Sendable {
        case pass, warn, fail, skip
    }

    public var status: Status
    /// Why, in one line or a few: what was found, or what was wrong and where.
    public var detail: String
    /// What later checks compare (reinit: the registrations of each fresh load).
    public var facts: [String] = []

    public init(_ status: Status, _ detail: String, facts: [String] = []) {
        self.status = status
        self.detail = detail
        self.facts = facts
    }

    public var json: JSON {
        ["status": .string(status.rawValue), "detail": .string(detail), "facts": .array(facts.map(JSON.string))]
    }

    public init?(json: JSON) {
        guard let status = json["status"]?.stringValue.flatMap(Status.init(rawValue:)), let detail = json["detail"]?.stringValue else {
            return nil
        }
        self.init(status, detail, facts: (json["facts"]?.arrayValue ?? []).compactMap(\.stringValue))
    }
}
