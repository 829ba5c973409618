// `pincer validate` as an author runs it, through the built binary: every sample
// plugin passes, and each deliberately faulty build of Tests/Fixtures/c/faulty.c
// fails exactly the check that names its fault, the checks before it passing.

import Foundation
import Testing

@Suite struct ValidateTests {
    private var pincer: String { Repo.path(".build/debug/pincer") }

    struct Verdict {
        var status: Int32
        var checks: [String: (status: String, detail: String)]
        var order: [String]
        var output: String
    }

    private func validate(_ path: String, _ extra: [String] = []) throws -> Verdict {
        let result = try runCommandStatus(pincer, ["validate", path, "--json", "--timeout-seconds", "30"] + extra, killAfter: 300)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], "\(result.output)\(result.errors)")
        let checks = try #require(parsed["checks"] as? [[String: Any]])
        var verdict = Verdict(status: result.status, checks: [:], order: [], output: result.output)
        for check in checks {
            let name = check["check"] as? String ?? "?"
            verdict.order.append(name)
            verdict.checks[name] = (check["status"] as? String ?? "?", check["detail"] as? String ?? "")
        }
        return verdict
    }

    private func faulty(_ flags: [String]) throws -> String {
        try Fixtures.build("Tests/Fixtures/c/faulty.c", flags: flags, into: try Fixtures.scratchDirectory("validate"), as: "libfaulty.so")
    }

    @Test func theFaultlessBuildPassesEveryCheck() throws {
        let verdict = try validate(try faulty([]))
        #expect(verdict.status == 0, "\(verdict.output)")
        for name in verdict.order { #expect(verdict.checks[name]?.status == "pass", "\(name): \(verdict.checks[name]?.detail ?? "")") }
        #expect(verdict.order.count == 16)
    }

    @Test(arguments: [
        (["-DFAULT_BOTH_ENTRIES"], "exports", "exports both pincer_plugin_get and pincer_plugin"),
        (["-DFAULT_CONSTRUCTOR_CRASH"], "loads", "crashed the check's process: signal 11"),
        (["-DFAULT_ENTRY_CRASH"], "entry", "crashed the check's process: signal 11"),
        (["-DFAULT_MAJOR"], "version", "built for Pincer ABI 2.0.0; this host speaks 1.0.0-rc2"),
        (["-DFAULT_BAD_ID"], "descriptor", "descriptor->id 'Faulty Plugin' is not 1 to 32 characters"),
        (["-DFAULT_NULL_SHUTDOWN"], "functions", "required function entry->shutdown is NULL"),
        (["-DFAULT_INIT_FAILS"], "lifecycle", "init failed with PINCER_ERR_PLUGIN: faulty refuses to start"),
        (["-DFAULT_BAD_TOOL_NAME"], "registrations", "register_tool: PINCER_ERR_INVALID_ARGUMENT: tool->name 'other.answer' must start with the plugin's id"),
        (["-DFAULT_GATE_BAD_VERDICT"], "hooks", "before_tool_call hook: its verdict 7 is neither"),
        (["-DFAULT_GATE_SLOW"], "hooks", "before_tool_call hook answered after 4"),
        (["-DFAULT_TOOL_NOT_ALLOC"], "tools", "faulty.answer: the text plugin 'faulty' returned from tool 'faulty.answer' is not memory from host->alloc"),
        (["-DFAULT_TOOL_BAD_UTF8"], "tools", "faulty.answer: the text plugin 'faulty' returned from tool 'faulty.answer' is not valid UTF-8"),
        (["-DFAULT_CALLS_AFTER_SHUTDOWN"], "after-shutdown", "called the host after shutdown returned: log: PINCER_ERR_SHUT_DOWN"),
        (["-DFAULT_THREAD_LEFT"], "threads", "1 threads started while it was loaded still run"),
        (["-DFAULT_RUN_LEFT"], "runs", "left 1 runs of its sessions going 500 ms after its shutdown returned"),
    ])
    func eachFaultFailsTheCheckThatNamesIt(flags: [String], check: String, detail: String) throws {
        let verdict = try validate(try faulty(flags))
        #expect(verdict.status == 2, "\(verdict.output)")
        let failing = try #require(verdict.checks[check])
        #expect(failing.status == "fail", "\(check): \(failing.detail)")
        #expect(failing.detail.contains(detail), "\(check): \(failing.detail)")
        // Every check before it passed: the fault is named where it lies, not earlier.
        for name in verdict.order.prefix(while: { $0 != check }) {
            #expect(["pass", "warn"].contains(verdict.checks[name]?.status), "\(name) before \(check): \(verdict.checks[name]?.detail ?? "")")
        }
    }

    @Test func aFileThatIsNotAPluginFailsTheFirstCheckAndSkipsTheRest() throws {
        let path = NSTemporaryDirectory() + "pincer-validate-\(UUID().uuidString).so"
        try "not a plugin\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let verdict = try validate(path)
        #expect(verdict.status == 2)
        #expect(verdict.checks["file"]?.status == "fail")
        #expect(verdict.order.dropFirst().allSatisfy { verdict.checks[$0]?.status == "skip" })
    }

    @Test func anUnknownCapabilityWarnsAndStrictFailsIt() throws {
        let path = try faulty(["-DFAULT_UNKNOWN_CAP"])
        let lenient = try validate(path)
        #expect(lenient.status == 0, "\(lenient.output)")
        #expect(lenient.checks["capabilities"]?.status == "warn")
        #expect(lenient.checks["capabilities"]?.detail.contains("sessions.spawm") == true)
        let strict = try validate(path, ["--strict", "--check", "capabilities"])
        #expect(strict.status == 2)
        #expect(strict.checks["capabilities"]?.status == "fail")
        #expect(strict.checks["lifecycle"]?.status == "skip", "--check runs only what it names and needs")
    }

    @Test func aSecondFreshLoadThatCannotInitFailsReinit() throws {
        let marker = NSTemporaryDirectory() + "pincer-reinit-\(UUID().uuidString)"
        defer { unlink(marker) }
        let verdict = try validate(try faulty(["-DFAULT_REINIT_MARKER=\"\(marker)\""]), ["--check", "reinit"])
        #expect(verdict.checks["lifecycle"]?.status == "pass")
        #expect(verdict.checks["reinit"]?.status == "fail")
        #expect(verdict.checks["reinit"]?.detail.contains("an earlier process never gave it back") == true)
    }

    /// Every sample plugin the build put in build/plugins, whatever its language.
    @Test func everySamplePluginPasses() throws {
        let directory = Repo.path("build/plugins")
        let samples = try #require(try? FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".so") },
                                   "no \(directory): scripts/build makes it (scripts/test runs it first)")
        #expect(!samples.isEmpty)
        for sample in samples.sorted() {
            let verdict = try validate("\(directory)/\(sample)")
            #expect(verdict.status == 0, "\(sample):\n\(verdict.output)")
        }
    }
}
