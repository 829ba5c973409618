// `pincer validate PLUGIN.so`: what clap-validator is to audio plugins. Each
// check of PluginCheck runs in a child process of the program running it
// (`pincer validate-check`), so a plugin that crashes or hangs fails the
// check it crashed in and the report goes on; a check whose prerequisite
// failed is skipped, naming it.

import Foundation
import PincerCore
import PincerHost

struct Validate {
    static let command = Command(
        "validate",
        abstract: "Check that a plugin file keeps the ABI's rules, each check in a process of its own.",
        discussion: """
            Checks, in order: \(PluginCheck.allCases.map(\.rawValue).joined(separator: ", ")). \
            The plugin runs in a real host (in-memory sessions, the built-in local model) with --config applied \
            and access to the validator's synthetic sessions. Each check prints pass, warn, fail or skip with its reason.

            Exit status: 0 no check failed (warnings allowed); 2 a check failed; 1 the validator itself could not run; 64 a usage error.
            """,
        options: [
            .value("config", help: "Operator config file (JSON) to load the plugin under: its entry's grants and config."),
            .flag("strict", help: "Fail, not warn, on capabilities this host does not know."),
            .values("check", help: "Run only these checks and those they need (the rest are reported as skipped)."),
            .value("timeout-seconds", default: "60", help: "Longest a check may take before its process is killed and it fails.",
                   accepts: { Double($0).map { $0 > 0 && $0.isFinite } ?? false }),
            .flag("json", help: "Print JSON instead of lines."),
        ],
        arguments: [Argument("plugin", help: "The plugin's .so file.")], action: .sync { parsed in
        let checks = parsed.values("check")
        for name in checks where PluginCheck(rawValue: name) == nil {
            throw UsageError("--check \(name) is not a check (\(PluginCheck.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        try Validate(plugin: parsed.required("plugin"), config: parsed.value("config"), strict: parsed.flag("strict"), check: checks,
                     timeoutSeconds: parsed.number("timeout-seconds"), json: parsed.flag("json")).run()
    })

    var plugin: String
    var config: String?
    var strict: Bool
    var check: [String]
    var timeoutSeconds: Double
    var json: Bool

    func run() throws {
        guard FileManager.default.fileExists(atPath: plugin) else { throw RuntimeFailure(message: "\(plugin): no such file") }
        if let config {
            // The config must make an engine; the validator's runs on the local model (PluginValidator
            // drops providers[]), so this needs no network stack either.
            var operatorConfig = try loadConfig(config)
            operatorConfig.providers = []
            do { try operatorConfig.makeEngine().shutdown() } catch { throw RuntimeFailure(message: "\(config): \(error.message)") }
        }
        let selected = Validate.withPrerequisites(check.compactMap(PluginCheck.init(rawValue:)))
        var outcomes: [(PluginCheck, CheckOutcome)] = []
        if !json { print("pincer validate \(plugin)") }
        for check in PluginCheck.allCases {
            let outcome: CheckOutcome
            if !selected.isEmpty, !selected.contains(check) {
                outcome = CheckOutcome(.skip, "not selected (--check)")
            } else if let failed = check.requires.first(where: { needed in outcomes.contains { $0.0 == needed && [.fail, .skip].contains($0.1.status) } }) {
                outcome = CheckOutcome(.skip, "needs '\(failed.rawValue)', which did not pass")
            } else {
                outcome = compared(check, runInChild(check), with: outcomes)
            }
            outcomes.append((check, outcome))
            if !json { print("  \(outcome.status.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0))  \(check.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0))  \(outcome.detail)") }
        }
        let count = { (status: CheckOutcome.Status) in outcomes.filter { $0.1.status == status }.count }
        if json {
            let checks = JSON.array(outcomes.map { check, outcome in
                .object([("check", .string(check.rawValue)), ("verifies", .string(check.summary)),
                         ("status", .string(outcome.status.rawValue)), ("detail", .string(outcome.detail))])
            })
            print(JSON.object([("plugin", .string(plugin)), ("passed", .bool(count(.fail) == 0)), ("checks", checks)]))
        } else {
            print("\(count(.pass)) passed, \(count(.warn)) warned, \(count(.fail)) failed, \(count(.skip)) skipped")
        }
        if count(.fail) > 0 { throw QuietExit(status: 2) }
    }

    /// The checks named and, transitively, the checks they need.
    static func withPrerequisites(_ checks: [PluginCheck]) -> Set<PluginCheck> {
        var all = Set<PluginCheck>()
        var pending = checks
        while let check = pending.popLast() {
            if all.insert(check).inserted { pending += check.requires }
        }
        return all
    }

    /// The reinit check compares its fresh load with the lifecycle check's.
    private func compared(_ check: PluginCheck, _ outcome: CheckOutcome, with earlier: [(PluginCheck, CheckOutcome)]) -> CheckOutcome {
        guard check == .reinit, outcome.status == .pass, let first = earlier.first(where: { $0.0 == .lifecycle })?.1 else { return outcome }
        guard first.facts == outcome.facts else {
            return CheckOutcome(.fail, "the second fresh load registered [\(outcome.facts.joined(separator: ", "))], the first [\(first.facts.joined(separator: ", "))]: init should depend on the config, not on what an earlier process left behind")
        }
        return outcome
    }

    private func runInChild(_ check: PluginCheck) -> CheckOutcome {
        var arguments = ["validate-check", check.rawValue, plugin]
        if let config { arguments += ["--config", config] }
        if strict { arguments.append("--strict") }
        let child: ChildProcess
        do { child = try ChildProcess.run(try CommandLineProgram.ownExecutable(), arguments, timeoutSeconds: timeoutSeconds) } catch {
            return CheckOutcome(.fail, "the validator could not start the check's process: \(error)")
        }
        let tail = child.stderr.split(separator: "\n").suffix(3).joined(separator: " | ")
        let context = tail.isEmpty ? "" : " (its last lines: \(tail))"
        switch child.ending {
        case .signalled(let signal):
            return CheckOutcome(.fail, "the plugin crashed the check's process: signal \(signal) (\(String(cString: strsignal(signal))))\(context)")
        case .timedOut:
            return CheckOutcome(.fail, "did not finish within \(Int(timeoutSeconds)) s (--timeout-seconds); killed\(context)")
        case .exited(let status):
            let line = child.stdout.split(separator: "\n").last { $0.hasPrefix(ValidateCheck.marker) }
            guard let line, let parsed = try? JSON.parse(String(line.dropFirst(ValidateCheck.marker.count))),
                  let outcome = CheckOutcome(json: parsed)
            else {
                return CheckOutcome(.fail, "the check's process exited with status \(status) without a verdict (did the plugin call exit()?)\(context)")
            }
            return outcome
        }
    }
}

/// One check in this process, its verdict on the last line of stdout (plugins may print too).
struct ValidateCheck {
    static let command = Command(
        "validate-check", abstract: "Run one check of pincer validate in this process.",
        options: [.value("config", help: "Operator config file (JSON)."), .flag("strict", help: "Fail on unknown capabilities.")],
        arguments: [Argument("check", help: "The check."), Argument("plugin", help: "The plugin's .so file.")],
        isHidden: true, action: .sync { parsed in
        try ValidateCheck(check: parsed.required("check"), plugin: parsed.required("plugin"), config: parsed.value("config"),
                          strict: parsed.flag("strict")).run()
    })
    static let marker = "pincer-validate-verdict "

    var check: String
    var plugin: String
    var config: String?
    var strict: Bool

    func run() throws {
        guard let check = PluginCheck(rawValue: check) else { throw UsageError("no check '\(check)'") }
        let outcome = PluginValidator(path: plugin, config: try loadConfig(config), strict: strict).run(check)
        print(ValidateCheck.marker + outcome.json.description)
        fflush(nil)  // every stream: print buffers stdout
        // The verdict is out: leave without running the plugin's or the runtime's exit handlers.
        _exit(0)
    }
}
