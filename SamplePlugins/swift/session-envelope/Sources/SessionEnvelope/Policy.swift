// The envelope's policy: what a session's creator hands the "session-envelope"
// metadata namespace, validated once when the session is created and checked
// on every tool call.
//
//   {"allowedTools": ["workspace-tools.*", "echo"],   only these (globs with *) may run
//    "deniedTools":  ["workspace-tools.run_command"], never these (deny wins)
//    "allowedPaths": ["docs", "/srv/shared"],         path arguments must lie inside one
//                                                     (relative: to the workspace)
//    "commands":     ["date", "echo"]}                the only commands a "command" argument may name
//
// Every member is optional; a member left out restricts nothing. Unknown
// members, non-string entries and ".." in an allowed path make the policy
// malformed: the session is refused rather than run under a policy that does
// not say what its author meant.

import Foundation

struct Policy: Equatable {
    var allowedTools: [String]?
    var deniedTools: [String]?
    /// Absolute and normalised once validated.
    var allowedPaths: [String]?
    var commands: [String]?

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    private static let members: Set = ["allowedTools", "deniedTools", "allowedPaths", "commands"]

    /// Reads a policy from the namespace's JSON object; relative allowed paths are taken
    /// inside `workspace`. nil for an empty namespace: the creator set no envelope.
    static func parse(_ json: String, workspace: String) throws -> Policy? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw Malformed(description: "the policy is not a JSON object")
        }
        if object.isEmpty { return nil }
        if let unknown = object.keys.sorted().first(where: { !members.contains($0) }) {
            throw Malformed(description: "unknown policy member '\(unknown)' (known: \(members.sorted().joined(separator: ", ")))")
        }
        func list(_ name: String) throws -> [String]? {
            guard let value = object[name] else { return nil }
            guard let items = value as? [Any], let strings = items as? [String], strings.allSatisfy({ !$0.isEmpty }) else {
                throw Malformed(description: "policy member '\(name)' must be a list of non-empty strings")
            }
            return strings
        }
        let paths = try list("allowedPaths")
        if let bad = paths?.first(where: { $0.split(separator: "/").contains("..") }) {
            throw Malformed(description: "allowed path '\(bad)' contains '..'")
        }
        return Policy(allowedTools: try list("allowedTools"), deniedTools: try list("deniedTools"),
                      allowedPaths: paths?.map { resolve($0, in: workspace) }, commands: try list("commands"))
    }

    /// The policy as its namespace stores it once validated.
    var json: String {
        var object: [String: [String]] = [:]
        object["allowedTools"] = allowedTools
        object["deniedTools"] = deniedTools
        object["allowedPaths"] = allowedPaths
        object["commands"] = commands
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Why this call breaks the policy, or nil when it keeps it.
    func violation(tool: String, argumentsJSON: String, workspace: String) -> String? {
        if let denied = deniedTools, denied.contains(where: { glob($0, matches: tool) }) {
            return "tool '\(tool)' is denied by the session's envelope"
        }
        if let allowed = allowedTools, !allowed.contains(where: { glob($0, matches: tool) }) {
            return "tool '\(tool)' is not among the envelope's allowed tools"
        }
        let arguments = (try? JSONSerialization.jsonObject(with: Data(argumentsJSON.utf8)) as? [String: Any]) ?? [:]
        for (name, value) in arguments.sorted(by: { $0.key < $1.key }) {
            guard let text = value as? String else { continue }
            if let allowedPaths, Policy.namesAPath(name) {
                let path = Policy.resolve(text, in: workspace)
                if !allowedPaths.contains(where: { path == $0 || path.hasPrefix($0 == "/" ? "/" : $0 + "/") }) {
                    return "path '\(text)' (\(path)) is outside the envelope's allowed paths"
                }
            }
            if name == "command", let commands, !commands.contains(text) {
                return "command '\(text)' is not on the envelope's allowlist"
            }
        }
        return nil
    }

    /// Arguments the envelope reads as paths: "path", and names ending in "Path" or "_path".
    static func namesAPath(_ name: String) -> Bool {
        name == "path" || name.hasSuffix("Path") || name.hasSuffix("_path")
    }

    /// `path` made absolute against `directory` and normalised ("." and ".." applied), so
    /// "docs/../../etc" is judged as the directory it names.
    static func resolve(_ path: String, in directory: String) -> String {
        var parts: [Substring] = []
        for part in ((path.hasPrefix("/") ? "" : directory + "/") + path).split(separator: "/") {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}

/// Whether `name` matches `pattern`, where * stands for any run of characters.
func glob(_ pattern: String, matches name: String) -> Bool {
    let pieces = pattern.split(separator: "*", omittingEmptySubsequences: false)
    guard pieces.count > 1 else { return pattern == name }
    var rest = Substring(name)
    guard rest.hasPrefix(pieces[0]) else { return false }
    rest = rest.dropFirst(pieces[0].count)
    for piece in pieces.dropFirst().dropLast() {
        guard let found = rest.range(of: piece) else { return false }
        rest = rest[found.upperBound...]
    }
    return rest.hasSuffix(pieces[pieces.count - 1])
}
