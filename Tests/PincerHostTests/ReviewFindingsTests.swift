// What the outside review of ABI 1.0 (rc1) found, one test each: every one
// failed on the rc1 host and passes on rc2. The plugin side is
// Tests/Fixtures/c/review.c; findings that need no C code drive the engine
// directly. Storms and recursion under memory caps are in AdversaryTests.

import CPincer
import Foundation
@testable import PincerCore
@testable import PincerHost
import Synchronization
import Testing

@Suite struct ReviewFindingsTests {
    private func review(_ config: OperatorConfig = OperatorConfig(), flags: [String] = []) throws -> TestHost {
        let t = try TestHost(config: config)
        let record = try t.load("Tests/Fixtures/c/review.c", as: "review.so", flags: flags)
        #expect(record.state == .loaded, "\(record.reason ?? "")")
        return t
    }

    @Test(arguments: ["wrapped_counts", "struct_sizes", "unterminated", "memory_handles", "wait_own_run", "cancel_tool",
                      "unregister", "tool_limits", "queue_bounds", "recursive_gate", "slow_observer"])
    func aPluginMeetsTheFixedBehaviour(caseName: String) throws {
        let t = try review()
        defer { t.close() }
        let result = t.run("fx-review", caseName)
        #expect(result.passed, "\(result.report)")
    }

    @Test func aPluginCannotForgeALogLine() throws {
        let t = try review()
        defer { t.close() }
        #expect(t.run("fx-review", "log_injection").passed)
        let line = #"[fx-review] info: one\n[other] info: forged\x1b[31m red\r\t\u{85}"#
        #expect(t.logs.all.contains(line), "\(t.logs.all)")
        #expect(!t.logs.all.contains { $0.hasPrefix("[other]") })
    }

    @Test func aLongLogLineIsCutBeforeTheCharacterThatCrossesTheLimit() throws {
        let t = try review()
        defer { t.close() }
        let result = t.run("fx-review", "long_log")
        #expect(result.passed, "\(result.report)")
        let line = try #require(t.logs.all.first { $0.hasSuffix("…") })
        #expect(line == "[fx-review] info: " + String(repeating: "a", count: (64 << 10) - 1) + "…")
    }

    @Test func aFailedInitLeavesNothingRegistered() throws {
        let t = try TestHost()
        defer { t.close() }
        let record = try t.load("Tests/Fixtures/c/review.c", as: "review.so",
                                flags: ["-DREVIEW_INIT_REGISTERS", "-DFIXTURE_INIT_FAILS=\"no database\""])
        #expect(record.state == .refused)
        #expect(t.engine.tools.tool(named: "fx-review.leftover") == nil)
        #expect(!t.engine.hooks.has(.beforeSessionCreate))
        #expect(t.logs.contains("released the gate") && t.logs.contains("released the tool"), "\(t.logs.all)")
        // Its gate would have blocked every spawn, the operator's included.
        let started = try t.engine.spawn(SessionSpec(message: "hello"), by: .operator)
        #expect(try t.engine.wait(runId: started.runId, timeoutMs: 10_000, by: .operator).status == .completed)
    }

    @Test func aPluginMayWaitInItsInit() throws {
        let t = try review(flags: ["-DREVIEW_INIT_WAITS"])
        defer { t.close() }
        #expect(t.logs.contains("init wait: \(ResultCode.ok), status \(PINCER_RUN_COMPLETED.rawValue)"), "\(t.logs.all)")
    }

    @Test func aFinalTextHoldingNulIsRefusedNotCut() throws {
        let config = try OperatorConfig.parse(#"{"plugins": {"entries": {"fx-review": {"sessionAccess": "all"}}}}"#, source: "c.json")
        let t = try review(config)
        defer { t.close() }
        let started = try t.engine.spawn(SessionSpec(message: "before\u{0}after"), by: .operator)
        let result = t.run("fx-review", "wait_nul \(started.runId)")
        #expect(result.passed, "\(result.report)")
    }

    @Test func hostShutdownIsNotHeldUpByAPluginThreadBlockedInWait() throws {
        let t = try review()
        defer { t.close() }
        #expect(t.run("fx-review", "block_in_wait").passed)
        let result = try #require(t.caseRunner("fx-review"))
        // The thread must be in wait() before the host stops: one that gets there after is refused
        // (PINCER_ERR_SHUT_DOWN, as host.h says), and under a loaded CI run it once got there late.
        let deadline = ContinuousClock.now + .seconds(20)
        while result("block_in_wait_calling").report != "1", ContinuousClock.now < deadline { usleep(1000) }
        usleep(300_000)
        let started = ContinuousClock.now
        t.host.shutdown() // the plugin's shutdown() joins the waiting thread
        #expect(ContinuousClock.now - started < .seconds(4), "shutdown waited for the 8 s run")
        #expect(result("block_in_wait_result").report == "\(ResultCode.ok)", "the blocked wait did not return with the run's end")
    }

    @Test func aCallbackOverrunningTheDrainIsLoggedAndShutdownGoesOn() throws {
        let t = try review(try OperatorConfig.parse(#"{"plugins": {"drainTimeoutMs": 100}}"#, source: "c.json"))
        defer { t.close() }
        #expect(t.run("fx-review", "observe_slowly").passed)
        let started = ContinuousClock.now
        t.host.shutdown()
        #expect(ContinuousClock.now - started < .milliseconds(1200), "shutdown waited for the observer")
        #expect(t.logs.contains("plugin 'fx-review': 1 callbacks still running after plugins.drainTimeoutMs = 100 ms; calling its shutdown() anyway"),
                "\(t.logs.all)")
    }

    @Test func eachPluginsTableSitsInAPageOfItsOwn() throws {
        let t = try TestHost()
        defer { t.close() }
        for i in 0..<6 { _ = try t.load("Tests/Fixtures/c/misuse.c", as: "m\(i).so", flags: ["-DFIXTURE_ID=\"fx-m\(i)\""]) }
        let addresses = (0..<6).compactMap { t.host.hostTable(pluginId: "fx-m\($0)").map { UInt(bitPattern: $0) } }
        #expect(addresses.count == 6 && addresses.allSatisfy { $0 % 4096 == 0 })
        let gaps = Set(zip(addresses, addresses.dropFirst()).map { Int(bitPattern: $1 &- $0) })
        #expect(gaps.count > 1, "the tables sit at one fixed stride: \(gaps)")
    }

    @Test func capabilitiesSeparateReadingFromDeletingAndObservingFromGating() throws {
        let t = try review(flags: ["-DFIXTURE_CAPABILITIES=PINCER_CAP_SESSIONS_SPAWN,PINCER_CAP_SESSIONS_READ,PINCER_CAP_HOOKS_OBSERVE"])
        defer { t.close() }
        let result = t.run("fx-review", "split_caps")
        #expect(result.passed, "\(result.report)")
    }

    @Test func lastErrorIsPerPluginNotOnlyPerThread() throws {
        let t = try review()
        defer { t.close() }
        _ = try t.load("Tests/Fixtures/c/review.c", as: "review-b.so", flags: ["-DFIXTURE_ID=\"fx-review-b\""])
        let a = try #require(t.host.hostTable(pluginId: "fx-review"))
        let b = try #require(t.host.hostTable(pluginId: "fx-review-b"))
        #expect(a.pointee.delete_session(a, "plugin:fx-review:secret") == ResultCode.notFound)
        #expect(String(cString: a.pointee.last_error(a)!).contains("plugin:fx-review:secret"))
        #expect(String(cString: b.pointee.last_error(b)!) == "", "plugin B read plugin A's message")
    }

    // MARK: - Loading

    @Test func theLoaderRefusesReservedIdsOtherPreReleasesAndRc1Binaries() throws {
        let t = try TestHost()
        defer { t.close() }
        let fixture = "Tests/Fixtures/c/misuse.c"
        let cases: [(String, [String], String)] = [
            ("operator.so", ["-DFIXTURE_ID=\"operator\""], "descriptor->id 'operator' is reserved for the host's own principals"),
            ("dotted.so", ["-DFIXTURE_ID=\"fx.dotted\""], "is not 1 to 32 characters of [a-z0-9_-] starting with a letter"),
            ("rc1-version.so", ["-DFIXTURE_ID=\"fx-rcone\"", "-DFIXTURE_ABI_PRERELEASE=1"], "built for Pincer ABI 1.0.0-rc1; this host speaks 1.0.0-rc2 (a plugin built against a release candidate loads only in a host of that same candidate)"),
            ("final-1.0.so", ["-DFIXTURE_ID=\"fx-final\"", "-DFIXTURE_ABI_PRERELEASE=0"], "this host is still a release candidate of that minor version"),
            ("rc-of-1.3.so", ["-DFIXTURE_ID=\"fx-rc13\"", "-DFIXTURE_ABI_MINOR=3"], "a plugin built against a release candidate loads only in a host of that same candidate"),
        ]
        for (file, flags, reason) in cases {
            let record = try t.load(fixture, as: file, flags: flags)
            #expect(record.state == .refused && record.reason?.contains(reason) == true, "\(file): \(record.reason ?? "loaded")")
        }
        // An rc1 binary exported pincer_entry (rc1's version script said so).
        let map = "\(t.directory)/rc1.map"
        try "{ global: pincer_entry; local: *; };".write(toFile: map, atomically: true, encoding: .utf8)
        try runCommand("/usr/bin/env", ["cc", "-std=c11", "-shared", "-fPIC", "-I", Repo.path("Include"), "-I", Repo.path("Tests/Fixtures/c"),
                                        "-DFIXTURE_ID=\"fx-rc1\"", "-DFIXTURE_ENTRY_NAME=pincer_entry", "-fvisibility=hidden",
                                        "-Wl,--version-script=\(map)", Repo.path(fixture), "-o", "\(t.directory)/rc1.so"])
        let rc1 = t.host.load(file: "\(t.directory)/rc1.so")
        #expect(rc1.reason?.contains("built against a pre-release header (ABI 1.0-rc1 exported 'pincer_entry')") == true, "\(rc1.reason ?? "loaded")")
    }

    @Test func theLoaderAndVersionHsInlineRuleAgree() throws {
        let versions: [(UInt32, UInt32, UInt32)] = [(1, 0, 2), (1, 0, 1), (1, 0, 0), (1, 1, 0), (1, 1, 2), (1, 3, 1), (2, 0, 0), (2, 0, 2), (0, 9, 0)]
        let dir = NSTemporaryDirectory() + "pincer-version-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var program = "#include <pincer/pincer.h>\n#include <stdio.h>\nint main(void) {\n"
        for (major, minor, pre) in versions {
            program += "    printf(\"%d\\n\", pincer_version_is_compatible((pincer_version){\(major), \(minor), 0, \(pre)}));\n"
        }
        try (program + "    return 0;\n}\n").write(toFile: "\(dir)/v.c", atomically: true, encoding: .utf8)
        try runCommand("/usr/bin/env", ["cc", "-std=c11", "-Wall", "-Werror", "-I", Repo.path("Include"), "\(dir)/v.c", "-o", "\(dir)/v"])
        let inline = try runCommand("\(dir)/v", []).split(separator: "\n").map { $0 == "1" }
        let loader = versions.map { PluginLoader.incompatibility(pincer_version(major: $0.0, minor: $0.1, patch: 0, prerelease: $0.2)) == nil }
        #expect(inline == loader)
        #expect(loader == [true, false, false, true, false, false, false, false, false])
    }

    @Test func aPluginMayExportTheEntryAsAFunction() throws {
        let t = try TestHost()
        defer { t.close() }
        let record = try t.load("Tests/Fixtures/c/misuse.c", as: "function.so", flags: ["-DFIXTURE_ENTRY_FUNCTION"])
        #expect(record.state == .loaded, "\(record.reason ?? "")")
        #expect(t.run("fx-misuse", "null_arguments").passed)
        let symbols = try runCommand("/usr/bin/env", ["nm", "-D", "--defined-only", "\(t.directory)/function.so"])
        #expect(symbols.split(separator: "\n").map { $0.split(separator: " ").last.map(String.init) ?? "" } == ["pincer_plugin_get"])
    }

    @Test func theSameImageIsInitialisedOnce() throws {
        let t = try TestHost()
        defer { t.close() }
        let path = try t.add("Tests/Fixtures/c/misuse.c", as: "once.so")
        #expect(t.host.load(file: path).state == .loaded)
        let again = t.host.load(file: path)
        #expect(again.state == .refused && again.reason?.contains("already initialised in this process") == true, "\(again.reason ?? "loaded")")
    }

    @Test func unknownCapabilitiesAndConfigEntriesAreLoudAndStrictRefusesThem() throws {
        let loose = try TestHost(config: try OperatorConfig.parse(#"{"plugins": {"entries": {"fx-mispelt": {"sessionAccess": "all"}}}}"#, source: "c.json"))
        defer { loose.close() }
        let flags = ["-DFIXTURE_CAPABILITIES=PINCER_CAP_HOST_READ,\"sessions.spawm\""]
        try loose.add("Tests/Fixtures/c/misuse.c", as: "typo.so", flags: flags)
        let records = try loose.host.loadDirectory(loose.directory)
        #expect(records.first?.state == .loaded && records.first?.unknownCapabilities == ["sessions.spawm"])
        #expect(loose.host.recordsJSON.contains(#""unknownCapabilities":["sessions.spawm"]"#))
        #expect(loose.logs.contains("descriptor asks for capabilities this host does not know: sessions.spawm"))
        #expect(loose.logs.contains("warning: config entry plugins.entries.fx-mispelt names no plugin found"))

        let strictConfig = try OperatorConfig.parse(#"{"plugins": {"strict": true, "entries": {"fx-mispelt": {}}}}"#, source: "c.json")
        let strict = try TestHost(config: strictConfig)
        defer { strict.close() }
        try strict.add("Tests/Fixtures/c/misuse.c", as: "typo.so", flags: flags)
        #expect(throws: PluginHost.StartRefusal.self) { try strict.host.loadDirectory(strict.directory) }
        #expect(strict.host.records.first?.reason?.contains("refused because plugins.strict is true") == true)
    }

    @Test func aConfigEntryBoundToAFileGrantsNothingToAnotherFile() throws {
        let probe = try TestHost()
        let path = try probe.add("Tests/Fixtures/c/misuse.c", as: "bound.so")
        let digest = try #require(FileDigest.sha256(ofFile: path))
        let sha = try runCommand("/usr/bin/env", ["sha256sum", path]).prefix(64)
        probe.close()
        #expect(digest == String(sha), "FileDigest and sha256sum disagree")
        for (entry, loads) in [(#"{"sha256": "\#(digest)"}"#, true), (#"{"sha256": "\#(String(repeating: "0", count: 64))"}"#, false),
                               (#"{"path": "/nowhere/bound.so"}"#, false)] {
            let t = try TestHost(config: try OperatorConfig.parse(#"{"plugins": {"entries": {"fx-misuse": \#(entry)}}}"#, source: "c.json"))
            defer { t.close() }
            let record = try t.load("Tests/Fixtures/c/misuse.c", as: "bound.so")
            #expect((record.state == .loaded) == loads, "\(entry): \(record.reason ?? "loaded")")
            if !loads { #expect(record.reason?.contains("plugins.entries.fx-misuse.") == true) }
        }
    }

    // MARK: - Engine rules a plugin relies on (hooks in Swift, the same engine path as C hooks)

    @Test func aCreatorSeedsAPolicyPluginsNamespaceWhichOnlyThatPluginSees() throws {
        let t = try review(try OperatorConfig.parse(#"{"plugins": {"entries": {"fx-review": {"sessionAccess": "all"}}}}"#, source: "c.json"))
        defer { t.close() }
        t.engine.hooks.register(Hook(plugin: "fx-review", point: .beforeSessionCreate, priority: 0, deadlineMs: 1000, seesAllSessions: true) { event in
            event.payload["metadata"]?["policy"] == "forbidden" ? .block(reason: "that policy is not allowed") : .proceed(patch: nil)
        })
        let policy: JSON = ["policy": "strict", "paths": ["/srv"]]
        let started = try t.engine.spawn(SessionSpec(message: "hi", metadata: ["fx-review": policy]), by: .operator)
        #expect(try t.engine.metadata(sessionKey: started.sessionKey, by: .plugin("fx-review")) == policy)
        #expect(try t.engine.metadata(sessionKey: started.sessionKey, by: .operator) == .object([]), "the operator sees only its own namespace")
        #expect(throws: EngineError(.denied, "spawn refused: blocked by plugin 'fx-review' (before_session_create hook): that policy is not allowed")) {
            try t.engine.spawn(SessionSpec(message: "hi", metadata: ["fx-review": ["policy": "forbidden"]]), by: .operator)
        }
        #expect(throws: EngineError(.invalidArgument, "metadata_json names namespace 'ghost', which is no loaded plugin's id")) {
            try t.engine.spawn(SessionSpec(message: "hi", metadata: ["ghost": .object([])]), by: .operator)
        }
    }

    @Test func aHookPatchCannotWidenAnotherCreatorsSession() throws {
        let t = try TestHost()
        defer { t.close() }
        t.engine.hooks.register(Hook(plugin: "meddler", point: .beforeSessionCreate, priority: 0, deadlineMs: 1000, seesAllSessions: true) { _ in
            .proceed(patch: ["toolsAllow": ["*"], "toolsDeny": []])
        })
        let started = try t.engine.spawn(SessionSpec(message: "@clock @echo{\"text\":\"ok\"}", toolPolicy: ToolPolicy(allow: ["echo"])), by: .plugin("victim"))
        #expect(try t.engine.wait(runId: started.runId, timeoutMs: 10_000, by: .operator).status == .completed)
        let results = try t.engine.transcript(sessionKey: started.sessionKey, by: .operator).filter { $0.role == .tool }
        #expect(results.first { $0.toolName == "clock" }?.isError == true, "the patch lifted the creator's allow list")
        #expect(results.first { $0.toolName == "echo" }?.content == "ok")
    }

    @Test func aStuckGateHoldsABoundedQueueNotEveryRefusedSpawn() throws {
        let t = try TestHost()
        defer { t.close() }
        let release = DispatchSemaphore(value: 0)
        t.engine.hooks.register(Hook(plugin: "stuck", point: .beforeSessionCreate, priority: 0, deadlineMs: 300, seesAllSessions: true) { _ in
            release.wait()
            return .proceed(patch: nil)
        })
        let reasons = Mutex<[String]>([])
        let engine = t.engine
        let threads = (0..<100).map { _ in
            Thread {
                do { _ = try engine.spawn(SessionSpec(message: "hi"), by: .operator) } catch {
                    reasons.withLock { $0.append("\(error)") }
                }
            }
        }
        threads.forEach { $0.start() }
        let deadline = Date().addingTimeInterval(10)
        while reasons.withLock({ $0.count }) < 100, Date() < deadline { usleep(10_000) }
        let all = reasons.withLock { $0 }
        #expect(all.count == 100)
        #expect(all.contains { $0.contains("its gate lane already holds \(HookLimits.maxPendingGates) calls waiting to start") }, "\(Set(all))")
        for _ in 0..<101 { release.signal() }
    }

    @Test func aStoppingPluginsGatesBlock() throws {
        let hooks = HookRegistry()
        hooks.register(Hook(plugin: "policy", point: .beforeToolCall, priority: 0, deadlineMs: 1000, seesAllSessions: true) { _ in .proceed(patch: nil) })
        hooks.stop(plugin: "policy")
        let event = HookEvent(point: .beforeToolCall, sessionKey: "k", sessionId: "i", runId: "r", owner: .operator, workspaceDir: "/", payload: [:])
        let outcome = hooks.gate(.beforeToolCall, owner: .operator, event: { _ in event }) { _, _ in }
        #expect(outcome.block?.reason == "blocked: plugin 'policy' (before_tool_call hook) cannot answer: the plugin is stopping or has shut down")
    }
}
