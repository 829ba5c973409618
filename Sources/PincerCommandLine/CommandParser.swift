// The command lines' parser: each command declares its options, flags and
// positional arguments as plain values, and the parser reads argv against them.
// No reflection: swift-argument-parser's property wrappers looked types and
// conformances up at every start, a fifth of a cold start of `pincer plugins list`.
//
// What it accepts, as scripts see it:
// - subcommands first (`pincer plugins list`), then options anywhere among the
//   positional arguments: `--name value`, `--name=value`, flags (`--json`); an
//   option given twice keeps its last value; `--` ends the options;
// - `-h` / `--help` anywhere before `--`, and `pincer help <command>…`, print the
//   command's help on stdout (exit 0); `--version` anywhere before `--` prints the version;
// - anything else it cannot read is a usage error: `Error: …`, the usage line and
//   a pointer to --help on stderr, exit 64 (EX_USAGE). Actions throw UsageError for
//   checks the grammar cannot express (an unknown check name).

/// A command: its name, help, what it reads, and what it does (nil for a group of subcommands).
public struct Command: Sendable {
    /// What a command does. `pincer`'s commands are synchronous: its main stays on the main
    /// thread, without starting Swift concurrency's threads (a cold start's budget).
    public enum Action: Sendable {
        case sync(@Sendable (ParsedArguments) throws -> Void)
        case async(@Sendable (ParsedArguments) async throws -> Void)
    }

    public var name: String
    public var abstract: String
    /// Built when the help is printed, not at every start (some list what they explain).
    public var discussion: @Sendable () -> String?
    public var options: [Option]
    public var arguments: [Argument]
    public var subcommands: [Command]
    /// Left out of its parent's help (an internal command).
    public var isHidden: Bool
    /// Everything after the name goes to the action unread (ParsedArguments.passedThrough):
    /// for commands another program parses.
    public var passesArgumentsThrough: Bool
    public var action: Action?

    public init(_ name: String, abstract: String, discussion: @autoclosure @escaping @Sendable () -> String? = nil, options: [Option] = [],
                arguments: [Argument] = [], subcommands: [Command] = [], isHidden: Bool = false, passesArgumentsThrough: Bool = false,
                action: Action? = nil)
    {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.options = options
        self.arguments = arguments
        self.subcommands = subcommands
        self.isHidden = isHidden
        self.passesArgumentsThrough = passesArgumentsThrough
        self.action = action
    }
}

/// A named option: a flag, one value, or values up to the next option.
public struct Option: Sendable {
    public enum Kind: Sendable { case flag, value, valuesUpToNextOption }

    /// Without its dashes: "plugins" is written --plugins.
    public var name: String
    public var kind: Kind
    public var help: String
    public var isRequired = false
    /// The value when the option is not given; shown in the help as "(default: …)".
    public var defaultValue: String?
    /// Checks a value as it is read (nil: any string); a refused one is a usage error.
    public var accepts: (@Sendable (String) -> Bool)?

    public static func flag(_ name: String, help: String) -> Option {
        Option(name: name, kind: .flag, help: help)
    }

    public static func value(_ name: String, required: Bool = false, default defaultValue: String? = nil, help: String,
                             accepts: (@Sendable (String) -> Bool)? = nil) -> Option
    {
        Option(name: name, kind: .value, help: help, isRequired: required, defaultValue: defaultValue, accepts: accepts)
    }

    public static func values(_ name: String, help: String) -> Option {
        Option(name: name, kind: .valuesUpToNextOption, help: help)
    }

    var label: String { kind == .flag ? "--\(name)" : "--\(name) <\(name)>" }
}

/// A positional argument, read in the order the command declares them.
public struct Argument: Sendable {
    public var name: String
    public var help: String
    public var isOptional = false

    public init(_ name: String, optional: Bool = false, help: String) {
        self.name = name
        self.help = help
        self.isOptional = optional
    }
}

/// What the parser read for one command.
public struct ParsedArguments: Sendable {
    fileprivate var optionValues: [String: [String]] = [:]
    fileprivate var flags: Set<String> = []
    fileprivate var positionals: [String: String] = [:]
    /// The words after a passesArgumentsThrough command's name.
    public fileprivate(set) var passedThrough: [String] = []

    /// The option's value (its last, when given twice), its default when not given, else nil.
    public func value(_ name: String) -> String? { optionValues[name]?.last }
    /// Every value given for the option, in order.
    public func values(_ name: String) -> [String] { optionValues[name] ?? [] }
    public func flag(_ name: String) -> Bool { flags.contains(name) }
    /// A positional argument's value, or nil when an optional one was not given.
    public func argument(_ name: String) -> String? { positionals[name] }
    /// A required option's or positional argument's value, which the parser made sure of.
    public func required(_ name: String) -> String {
        guard let value = optionValues[name]?.last ?? positionals[name] else {
            preconditionFailure("'\(name)' is not a required option or argument of this command")
        }
        return value
    }

    /// An option with a default (or required), its value converted: the parser checked it (Option.accepts).
    public func number<T: LosslessStringConvertible>(_ name: String) -> T {
        guard let number = value(name).flatMap(T.init) else {
            preconditionFailure("--\(name) has no default, or its `accepts` lets through what \(T.self) cannot read")
        }
        return number
    }
}

/// A usage error: printed with the command's usage line, exit 64.
public struct UsageError: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// What a command line asks for, once read.
public enum Invocation: Sendable {
    case run([Command], ParsedArguments)
    case help([Command])
    case version
    case usageError([Command], String)
}

extension Command {
    /// Reads `words` (the arguments after the program's name) against this root command.
    public func invocation(of words: [String]) -> Invocation {
        var path = [self]
        var rest = words[...]
        if rest.first == "help", !subcommands.isEmpty {
            for word in rest.dropFirst() {
                guard let sub = path.last!.subcommand(named: word) else {
                    return .usageError(path, "'\(word)' is not a subcommand of \(Command.name(of: path))")
                }
                path.append(sub)
            }
            return .help(path)
        }
        while !path.last!.subcommands.isEmpty, let word = rest.first {
            if word == "-h" || word == "--help" { return .help(path) }
            if word == "--version" { return .version }
            guard let sub = path.last!.subcommand(named: word) else {
                let names = path.last!.subcommands.filter { !$0.isHidden }.map(\.name).joined(separator: ", ")
                return .usageError(path, word.hasPrefix("-") ? "Unknown option '\(word)'"
                                                             : "'\(word)' is not a subcommand of \(Command.name(of: path)) (\(names))")
            }
            path.append(sub)
            rest = rest.dropFirst()
            if sub.passesArgumentsThrough {
                var parsed = ParsedArguments()
                parsed.passedThrough = Array(rest)
                return .run(path, parsed)
            }
        }
        // A group given no subcommand shows what it offers.
        guard path.last!.action != nil else { return .help(path) }
        return Command.parse(rest, for: path)
    }

    /// "pincer plugins list": the words that name the last command of `path`.
    static func name(of path: [Command]) -> String { path.map(\.name).joined(separator: " ") }

    private func subcommand(named name: String) -> Command? { subcommands.first { $0.name == name } }

    /// Reads the words after the command's name against the last command of `path`.
    private static func parse(_ words: ArraySlice<String>, for path: [Command]) -> Invocation {
        let command = path.last!
        // Asking for help (then the version) wins over anything else wrong on the line.
        let beforeDoubleDash = words.prefix(while: { $0 != "--" })
        if beforeDoubleDash.contains(where: { $0 == "-h" || $0 == "--help" }) { return .help(path) }
        if beforeDoubleDash.contains("--version") { return .version }
        let refused = { (message: String) in Invocation.usageError(path, message) }
        var parsed = ParsedArguments()
        var positionals: [String] = []
        var optionsEnded = false
        var i = words.startIndex
        while i < words.endIndex {
            let word = words[i]
            i += 1
            if optionsEnded || !isOption(word) {
                positionals.append(word)
                continue
            }
            if word == "--" {
                optionsEnded = true
                continue
            }
            let (name, inline) = split(word)
            guard let option = command.options.first(where: { "--\($0.name)" == name }) else { return refused("Unknown option '\(name)'") }
            switch option.kind {
            case .flag:
                if inline != nil { return refused("The flag '\(name)' takes no value") }
                parsed.flags.insert(option.name)
            case .value:
                let value: String
                if let inline {
                    value = inline
                } else if i < words.endIndex, !words[i].hasPrefix("--") {
                    value = words[i]
                    i += 1
                } else {
                    return refused("Missing value for '\(option.label)'")
                }
                if let accepts = option.accepts, !accepts(value) {
                    return refused("The value '\(value)' is invalid for '\(option.label)'")
                }
                parsed.optionValues[option.name, default: []].append(value)
            case .valuesUpToNextOption:
                var values = inline.map { [$0] } ?? []
                while i < words.endIndex, !isOption(words[i]) {
                    values.append(words[i])
                    i += 1
                }
                if values.isEmpty { return refused("Missing value for '\(option.label)'") }
                parsed.optionValues[option.name, default: []] += values
            }
        }
        for option in command.options where parsed.optionValues[option.name] == nil {
            if let defaultValue = option.defaultValue { parsed.optionValues[option.name] = [defaultValue] }
        }
        if let missing = command.options.first(where: { $0.isRequired && parsed.optionValues[$0.name] == nil }) {
            return refused("Missing expected argument '\(missing.label)'")
        }
        if positionals.count > command.arguments.count {
            return refused("Unexpected argument '\(positionals[command.arguments.count])'")
        }
        for (argument, value) in zip(command.arguments, positionals) { parsed.positionals[argument.name] = value }
        if let missing = command.arguments.dropFirst(positionals.count).first(where: { !$0.isOptional }) {
            return refused("Missing expected argument '<\(missing.name)>'")
        }
        return .run(path, parsed)
    }

    /// "-x" and "--x" are options; "-" alone (stdin, by convention) and negative numbers are values.
    private static func isOption(_ word: String) -> Bool {
        guard word.hasPrefix("-"), word.count > 1 else { return false }
        return Double(word) == nil
    }

    /// "--name=value" → ("--name", "value"); "--name" → ("--name", nil).
    private static func split(_ word: String) -> (String, String?) {
        guard let equals = word.firstIndex(of: "=") else { return (word, nil) }
        return (String(word[..<equals]), String(word[word.index(after: equals)...]))
    }
}

// MARK: - Help

extension Command {
    /// "pincer run [--plugins <plugins>] … <message>", for `path` ending in this command.
    public static func usage(_ path: [Command]) -> String {
        let command = path.last!
        var parts = [name(of: path)]
        if command.passesArgumentsThrough { return parts[0] + " …" }
        if command.action == nil { return parts[0] + " <subcommand>" }
        for option in command.options {
            let label = option.kind == .valuesUpToNextOption ? option.label + " …" : option.label
            parts.append(option.isRequired ? label : "[\(label)]")
        }
        for argument in command.arguments { parts.append(argument.isOptional ? "[<\(argument.name)>]" : "<\(argument.name)>") }
        return parts.joined(separator: " ")
    }

    /// The help `--help` prints, wrapped to 80 columns.
    public static func help(_ path: [Command], version: String?) -> String {
        let command = path.last!
        var out = Help.wrap("OVERVIEW: " + command.abstract, indent: 0) + "\n"
        if let discussion = command.discussion() {
            for paragraph in discussion.components(separatedBy: "\n\n") { out += "\n" + Help.wrap(paragraph, indent: 0) + "\n" }
        }
        out += "\nUSAGE: \(usage(path))\n"
        if !command.arguments.isEmpty {
            out += "\nARGUMENTS:\n" + command.arguments.map { Help.entry("<\($0.name)>", $0.help) }.joined()
        }
        var options = command.options.map { option in
            Help.entry(option.label, option.help + (option.defaultValue.map { " (default: \($0))" } ?? ""))
        }
        if version != nil { options.append(Help.entry("--version", "Show the version.")) }
        options.append(Help.entry("-h, --help", "Show help information."))
        out += "\nOPTIONS:\n" + options.joined()
        let shown = command.subcommands.filter { !$0.isHidden }
        if !shown.isEmpty {
            out += "\nSUBCOMMANDS:\n" + shown.map { Help.entry($0.name, $0.abstract) }.joined()
            out += "\n  See '\(path[0].name) help <subcommand>' for detailed help.\n"
        }
        return out
    }
}

private enum Help {
    static let width = 80
    static let labelColumn = 26

    /// "  label      text…", the text wrapped in its column; a label too wide for it gets a line of its own.
    static func entry(_ label: String, _ text: String) -> String {
        let head = "  " + label
        let body = wrap(text, indent: labelColumn)
        if head.count + 2 <= labelColumn { return head + String(body.dropFirst(head.count)) + "\n" }
        return head + "\n" + body + "\n"
    }

    /// `text` in lines of at most `width` columns, each indented by `indent` spaces.
    static func wrap(_ text: String, indent: Int) -> String {
        let margin = String(repeating: " ", count: indent)
        var lines: [String] = []
        var line = margin
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if line.count > indent, line.count + 1 + word.count > width {
                lines.append(line)
                line = margin
            }
            line += (line.count > indent ? " " : "") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}
