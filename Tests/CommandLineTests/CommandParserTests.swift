// The command lines' parser, against a command tree shaped like pincer's: what it
// reads, what it refuses (each refusal a usage error naming the word at fault), and
// the help it prints.

import PincerCommandLine
import Testing

@Suite struct CommandParserTests {
    static let run = Command(
        "run", abstract: "Run one session.",
        options: [.value("plugins", help: "Plugins directory."), .flag("no-store", help: "Memory only."),
                  .value("linger-ms", default: "0", help: "Linger.", accepts: { UInt32($0) != nil }),
                  .values("check", help: "Checks.")],
        arguments: [Argument("message", help: "The message."), Argument("extra", optional: true, help: "More.")], action: .sync { _ in })
    static let list = Command("list", abstract: "List plugins.", options: [.value("plugins", required: true, help: "Plugins directory.")], action: .sync { _ in })
    static let root = Command(
        "pincer", abstract: "A host.",
        subcommands: [Command("plugins", abstract: "Inspect plugins.", subcommands: [list]), run,
                      Command("secret", abstract: "Internal.", isHidden: true, action: .sync { _ in }),
                      Command("serve", abstract: "Serve.", passesArgumentsThrough: true, action: .sync { _ in })])

    func parsed(_ words: [String]) throws -> (path: [String], arguments: ParsedArguments) {
        guard case .run(let path, let arguments) = CommandParserTests.root.invocation(of: words) else {
            Issue.record("\(words) did not parse: \(CommandParserTests.root.invocation(of: words))")
            throw UsageError("unparsed")
        }
        return (path.map(\.name), arguments)
    }

    func refusal(_ words: [String]) -> String? {
        guard case .usageError(_, let message) = CommandParserTests.root.invocation(of: words) else { return nil }
        return message
    }

    @Test func optionsMayComeAnywhereInEitherSpelling() throws {
        let (path, arguments) = try parsed(["run", "hi", "--plugins=a", "--no-store", "there", "--linger-ms", "25", "--plugins", "b"])
        #expect(path == ["pincer", "run"])
        #expect(arguments.argument("message") == "hi")
        #expect(arguments.argument("extra") == "there")
        #expect(arguments.value("plugins") == "b", "the last of an option given twice")
        #expect(arguments.values("plugins") == ["a", "b"])
        #expect(arguments.flag("no-store"))
        #expect(arguments.number("linger-ms") as UInt32 == 25)
    }

    @Test func defaultsFillOptionsNotGivenAndOptionalArgumentsStayNil() throws {
        let (_, arguments) = try parsed(["run", "hi"])
        #expect(arguments.number("linger-ms") as UInt32 == 0)
        #expect(arguments.value("plugins") == nil)
        #expect(!arguments.flag("no-store"))
        #expect(arguments.argument("extra") == nil)
    }

    @Test func doubleDashEndsOptionsAndDashValuesArePositional() throws {
        #expect(try parsed(["run", "--", "--plugins", "x"]).arguments.argument("message") == "--plugins")
        #expect(try parsed(["run", "-", "-12.5"]).arguments.argument("extra") == "-12.5")
        #expect(try parsed(["run", "--plugins", "-", "m"]).arguments.value("plugins") == "-")
    }

    @Test func valuesRunUpToTheNextOption() throws {
        let (_, arguments) = try parsed(["run", "--check", "a", "b", "--no-store", "message"])
        #expect(arguments.values("check") == ["a", "b"])
        #expect(arguments.argument("message") == "message")
    }

    @Test func aPassThroughCommandGetsEveryWordUnread() throws {
        let (path, arguments) = try parsed(["serve", "--help", "--bogus", "x"])
        #expect(path == ["pincer", "serve"])
        #expect(arguments.passedThrough == ["--help", "--bogus", "x"])
    }

    @Test(arguments: [
        (["run", "--bogus", "m"], "Unknown option '--bogus'"),
        (["run", "m", "--plugins"], "Missing value for '--plugins <plugins>'"),
        (["run", "--plugins", "--no-store", "m"], "Missing value for '--plugins <plugins>'"),
        (["run", "--linger-ms", "-1", "m"], "The value '-1' is invalid for '--linger-ms <linger-ms>'"),
        (["run", "--no-store=yes", "m"], "The flag '--no-store' takes no value"),
        (["run", "--check", "--no-store", "m"], "Missing value for '--check <check>'"),
        (["run"], "Missing expected argument '<message>'"),
        (["run", "a", "b", "c"], "Unexpected argument 'c'"),
        (["plugins", "list"], "Missing expected argument '--plugins <plugins>'"),
        (["plugins", "lst"], "'lst' is not a subcommand of pincer plugins (list)"),
        (["nope"], "'nope' is not a subcommand of pincer (plugins, run, serve)"),
        (["--bogus"], "Unknown option '--bogus'"),
        (["help", "nope"], "'nope' is not a subcommand of pincer"),
    ])
    func refusesWhatItCannotReadNamingIt(words: [String], message: String) {
        #expect(refusal(words) == message)
    }

    @Test func helpIsForTheDeepestCommandNamedAndTheVersionForAnyCommand() throws {
        for words in [["run", "x", "--help"], ["run", "-h"], ["help", "run"], ["run", "--bogus", "-h"]] {
            guard case .help(let path) = CommandParserTests.root.invocation(of: words) else {
                Issue.record("\(words): \(CommandParserTests.root.invocation(of: words))")
                continue
            }
            #expect(path.map(\.name) == ["pincer", "run"], "\(words)")
        }
        guard case .help(let group) = CommandParserTests.root.invocation(of: ["plugins"]) else {
            Issue.record("a group named alone shows its help")
            return
        }
        #expect(group.map(\.name) == ["pincer", "plugins"])
        guard case .version = CommandParserTests.root.invocation(of: ["--version"]) else {
            Issue.record("--version at the root")
            return
        }
        for words in [["run", "--version", "m"], ["plugins", "list", "--version"], ["run", "--bogus", "--version"]] {
            guard case .version = CommandParserTests.root.invocation(of: words) else {
                Issue.record("\(words): --version anywhere before -- prints the version")
                continue
            }
        }
        #expect(try parsed(["run", "--", "--version"]).arguments.argument("message") == "--version")
    }

    @Test func helpListsEveryOptionAndArgumentWithinEightyColumns() {
        let text = Command.help([CommandParserTests.root, CommandParserTests.run], version: "pincer 1")
        for label in ["--plugins <plugins>", "--no-store", "--linger-ms <linger-ms>", "<message>", "<extra>", "-h, --help", "(default: 0)"] {
            #expect(text.contains(label), "\(label) missing from\n\(text)")
        }
        #expect(text.contains("USAGE: pincer run [--plugins <plugins>] [--no-store] [--linger-ms <linger-ms>] [--check <check> …] <message> [<extra>]"))
        #expect(text.contains("--version"))
        for line in text.split(separator: "\n") where !line.hasPrefix("USAGE:") { #expect(line.count <= 80, "\(line)") }
        let rootHelp = Command.help([CommandParserTests.root], version: "pincer 1")
        #expect(rootHelp.contains("--version") && rootHelp.contains("  plugins ") && !rootHelp.contains("secret"))
    }
}
