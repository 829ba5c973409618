// Which tools a session may run. Allow and deny lists of names, glob patterns
// ("calendar*", "*") and groups ("group:basic"); names match case-insensitively.
// An empty allow list allows every tool; any allow entry restricts the session
// to matching tools; a matching deny entry always wins. The engine checks this
// where the tool executes, so a model that asks for a denied tool gets an
// error result and the tool never runs. A session spawned by another session
// carries its ancestors' policies too, all checked: it can only narrow them.

public struct ToolPolicy: Equatable, Sendable {
    public var allow: [String]
    public var deny: [String]
    /// The policies of the sessions above this one, outermost first (each without its own chain).
    public private(set) var inherited: [ToolPolicy] = []

    public init(allow: [String] = [], deny: [String] = []) {
        self.allow = allow.map(ToolPolicy.folded)
        self.deny = deny.map(ToolPolicy.folded)
    }

    public enum Decision: Equatable, Sendable {
        case allowed
        /// Denied, with the reason naming the pattern (or its absence) that decided it.
        case denied(String)
    }

    /// Whose policy is deciding, as a refusal names it.
    public enum Holder: Sendable {
        case session, parent, host

        var policy: String {
            switch self {
            case .session: return "the session's tool policy"
            case .parent: return "a policy the session inherited (a parent session's, or a hook's)"
            case .host: return "the host's tool policy (operator config tools.deny)"
            }
        }

        var allowList: String {
            switch self {
            case .session: return "the session's allow list"
            case .parent: return "an allow list the session inherited (a parent session's, or a hook's)"
            case .host: return "the host's allow list (operator config tools.allow)"
            }
        }
    }

    /// `child`, held to this policy as well (and to everything this one inherited).
    public func narrowed(by child: ToolPolicy) -> ToolPolicy {
        var narrowed = ToolPolicy(allow: child.allow, deny: child.deny)
        narrowed.inherited = inherited + [ToolPolicy(allow: allow, deny: deny)]
        return narrowed
    }

    /// The same policy, further held to `patterns` as an allow list every tool must also
    /// match (a hook's patch): it narrows, never widens, and never counts as naming a tool.
    func restrictingAllow(to patterns: [String]) -> ToolPolicy {
        var copy = self
        copy.inherited.append(ToolPolicy(allow: patterns, deny: []))
        return copy
    }

    /// The same policy (and chain) with `patterns` added to its own deny list.
    func addingDeny(_ patterns: [String]) -> ToolPolicy {
        var copy = self
        copy.deny += patterns.map(ToolPolicy.folded)
        return copy
    }

    /// Whether the session's own allow list names `tool` itself or its group, not merely a glob.
    func namesExplicitly(_ tool: String, group: String?) -> Bool {
        allow.contains(ToolPolicy.folded(tool)) || group.map { allow.contains("group:\($0)") } ?? false
    }

    /// - Parameter groupMembers: the tool names in a group, or nil for an unknown group.
    /// Ancestors' policies first, then this one's own lists.
    /// - Parameter holder: whose policy this is, for the refusal's wording.
    public func decide(tool: String, groupMembers: (String) -> [String]?, holder: Holder = .session) -> Decision {
        for ancestor in inherited {
            if case .denied(let reason) = ancestor.decide(tool: tool, groupMembers: groupMembers, holder: .parent) { return .denied(reason) }
        }
        let name = ToolPolicy.folded(tool)
        if let pattern = deny.first(where: { ToolPolicy.matches(pattern: $0, name: name, groupMembers: groupMembers) }) {
            return .denied("tool '\(tool)' is denied by \(holder.policy) (deny pattern '\(pattern)')")
        }
        if allow.isEmpty || allow.contains(where: { ToolPolicy.matches(pattern: $0, name: name, groupMembers: groupMembers) }) {
            return .allowed
        }
        return .denied("tool '\(tool)' is not in \(holder.allowList) (\(allow.joined(separator: ", ")))")
    }

    static func matches(pattern: String, name: String, groupMembers: (String) -> [String]?) -> Bool {
        if pattern.hasPrefix("group:") {
            return groupMembers(String(pattern.dropFirst(6)))?.contains(where: { ToolPolicy.folded($0) == name }) ?? false
        }
        return glob(Array(pattern.utf8)[...], Array(name.utf8)[...])
    }

    /// A tool name or pattern as they are compared: lower-cased. Most are lower-case ASCII already,
    /// and those are returned as they are: lowercased() would look each character up in Unicode's
    /// tables, for every tool at every model turn.
    static func folded(_ name: String) -> String {
        name.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") || $0 >= 0x80 } ? name.lowercased() : name
    }

    /// `*` matches any run of characters; everything else matches itself.
    static func glob(_ pattern: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> Bool {
        var p = pattern.startIndex, n = name.startIndex
        var starP = -1, starN = -1
        while n < name.endIndex {
            if p < pattern.endIndex, pattern[p] == UInt8(ascii: "*") {
                starP = p; starN = n; p += 1
            } else if p < pattern.endIndex, pattern[p] == name[n] {
                p += 1; n += 1
            } else if starP >= 0 {
                p = starP + 1; starN += 1; n = starN
            } else {
                return false
            }
        }
        while p < pattern.endIndex, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.endIndex
    }

    /// The policy as stored (and as status reports it).
    public var json: JSON {
        var members: [(String, JSON)] = [("allow", .array(allow.map(JSON.string))), ("deny", .array(deny.map(JSON.string)))]
        if !inherited.isEmpty { members.append(("inherited", .array(inherited.map(\.json)))) }
        return .object(members)
    }

    /// Reads back what `json` wrote.
    public init(json: JSON) {
        self.init(allow: json["allow"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                  deny: json["deny"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        inherited = json["inherited"]?.arrayValue?.map { ToolPolicy(json: $0) } ?? []
    }
}
