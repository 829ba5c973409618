// The loader refuses every kind of bad plugin with one line naming the file
// and the reason, and the host and every other plugin go on.

import Foundation
import Logging
import PincerCore
@testable import PincerHost
import Testing

@Suite struct LoaderTests {
    /// Builds a directory holding every kind of broken plugin between two good ones, loads it, and returns the records by file name.
    private func loadMixedDirectory(_ t: TestHost) throws -> [String: PluginRecord] {
        let fixture = "Tests/Fixtures/c/services.c"
        try t.add(fixture, as: "a-good.so")
        try t.add(fixture, as: "b-duplicate.so")
        try t.add(fixture, as: "c-wrong-major.so", flags: ["-DFIXTURE_ID=\"fx-major\"", "-DFIXTURE_ABI_MAJOR=2"])
        try t.add(fixture, as: "d-no-entry.so", flags: ["-DFIXTURE_ID=\"fx-noentry\"", "-DFIXTURE_ENTRY_NAME=not_the_entry"])
        try t.add(fixture, as: "e-null-init.so", flags: ["-DFIXTURE_ID=\"fx-nullinit\"", "-DFIXTURE_NULL_INIT"])
        try t.add(fixture, as: "f-init-fails.so", flags: ["-DFIXTURE_ID=\"fx-initfails\"", "-DFIXTURE_INIT_FAILS=\"no database\""])
        try t.add(fixture, as: "g-null-descriptor.so", flags: ["-DFIXTURE_ID=\"fx-nodesc\"", "-DFIXTURE_NULL_DESCRIPTOR"])
        try t.add(fixture, as: "h-bad-id.so", flags: ["-DFIXTURE_ID=\"Bad Id!\""])
        try t.add(fixture, as: "i-newer-minor.so", flags: ["-DFIXTURE_ID=\"fx-minor\"", "-DFIXTURE_ABI_MINOR=7", "-DFIXTURE_ABI_PRERELEASE=0"])
        try "this is not a plugin\n".write(toFile: "\(t.directory)/j-not-elf.so", atomically: true, encoding: .utf8)
        // An ELF object file that is not a shared object.
        try runCommand("/usr/bin/env", ["cc", "-c", "-I", Repo.path("Include"), "-I", Repo.path("Tests/Fixtures/c"),
                                        Repo.path(fixture), "-o", "\(t.directory)/k-object.so"])
        // A plugin whose dependency is missing at load time.
        let lib = "\(t.directory)/deps"
        try FileManager.default.createDirectory(atPath: lib, withIntermediateDirectories: true)
        try "int nope_value(void) { return 1; }\n".write(toFile: "\(lib)/nope.c", atomically: true, encoding: .utf8)
        try runCommand("/usr/bin/env", ["cc", "-shared", "-fPIC", "\(lib)/nope.c", "-o", "\(lib)/libnope.so"])
        try Fixtures.build(fixture, flags: ["-DFIXTURE_ID=\"fx-missingdep\"", "-Wl,--no-as-needed", "-L\(lib)", "-lnope"],
                           into: t.directory, as: "l-missing-dep.so")
        try FileManager.default.removeItem(atPath: "\(lib)/libnope.so")
        try t.add(fixture, as: "m-bad-language.so", flags: ["-DFIXTURE_ID=\"fx-lang\"", "-DFIXTURE_LANGUAGE=\"C Sharp\""])
        try t.add(fixture, as: "n-bad-sdk.so", flags: ["-DFIXTURE_ID=\"fx-sdk\"", "-DFIXTURE_SDK=\"kit 1.0\""])
        try t.add("Tests/Fixtures/c/host_read.c", as: "z-good.so", flags: ["-DFIXTURE_SDK=\"test-kit/2.1\""])
        let records = try t.host.loadDirectory(t.directory)
        return Dictionary(uniqueKeysWithValues: records.map { ($0.fileName, $0) })
    }

    @Test func refusesEachBadPluginWithItsReasonAndLoadsTheRest() throws {
        let t = try TestHost()
        defer { t.close() }
        let byFile = try loadMixedDirectory(t)
        let expected: [String: String?] = [
            "a-good.so": nil,
            "b-duplicate.so": "duplicate plugin id 'fx-services': already loaded from \(t.directory)/a-good.so",
            "c-wrong-major.so": "built for Pincer ABI 2.0.0-rc2; this host speaks 1.0.0-rc2 (major versions must match)",
            "d-no-entry.so": "no entry symbol: export 'pincer_plugin' or 'pincer_plugin_get'",
            "e-null-init.so": "required function entry->init is NULL",
            "f-init-fails.so": "init failed with PINCER_ERR_PLUGIN: fixture refuses to start: no database",
            "g-null-descriptor.so": "entry->descriptor is NULL",
            "h-bad-id.so": "descriptor->id 'Bad Id!' is not 1 to 32 characters",
            "i-newer-minor.so": nil,
            "j-not-elf.so": "not an ELF shared object",
            "k-object.so": "an ELF file but not a shared object",
            "l-missing-dep.so": "dlopen failed: libnope.so: cannot open shared object file",
            "m-bad-language.so": "descriptor->language 'C Sharp' is not 1 to 16 characters of [a-z0-9+#_-]",
            "n-bad-sdk.so": "descriptor->sdk 'kit 1.0' is not \"<name>/<version>\"",
            "z-good.so": nil,
        ]
        #expect(byFile.count == expected.count)
        for (file, reason) in expected {
            let record = try #require(byFile[file], "no record for \(file)")
            if let reason {
                #expect(record.state == .refused, "\(file) loaded")
                #expect(record.reason?.contains(reason) == true, "\(file): \(record.reason ?? "no reason")")
                #expect(t.logs.contains("refused \(t.directory)/\(file): "), "no log line for \(file)")
            } else {
                #expect(record.state == .loaded, "\(file): \(record.reason ?? "")")
            }
        }
        #expect(byFile["i-newer-minor.so"]?.abiVersion == "1.7.0")
        #expect(byFile["c-wrong-major.so"]?.abiVersion == "2.0.0-rc2")
        #expect(byFile["a-good.so"].map { [$0.language, $0.sdk] } == ["c", nil])
        #expect(byFile["z-good.so"].map { [$0.language, $0.sdk] } == ["c", "test-kit/2.1"])
        // The good plugins work after all those refusals.
        #expect(t.run("fx-hostread", "read").passed)
        #expect(t.run("fx-services", "services").passed)
        #expect(t.engine.statusJSON().contains("\"id\":\"fx-nullinit\",\"version\":\"1.0.0\",\"state\":\"refused\""))
    }

    @Test func aRequiredPluginThatIsRefusedStopsTheLoadFailingClosed() throws {
        let config = try OperatorConfig.parse(#"{"plugins": {"entries": {"fx-policy": {"required": true}}}}"#, source: "o.json")
        let t = try TestHost(config: config)
        defer { t.close() }
        try t.add("Tests/Fixtures/c/services.c", as: "policy.so", flags: ["-DFIXTURE_ID=\"fx-policy\"", "-DFIXTURE_INIT_FAILS=\"no policy file\""])
        #expect {
            try t.host.loadDirectory(t.directory)
        } throws: { error in
            "\(error)".contains("plugins.entries.fx-policy.required is true, but \(t.directory)/policy.so was refused: init failed with PINCER_ERR_PLUGIN: fixture refuses to start: no policy file")
        }
    }

    @Test func loadsInSortedOrder() throws {
        let t = try TestHost()
        defer { t.close() }
        for name in ["m.so", "b.so", "x.so", "a.so"] {
            try "not elf".write(toFile: "\(t.directory)/\(name)", atomically: true, encoding: .utf8)
        }
        try "ignored".write(toFile: "\(t.directory)/readme.txt", atomically: true, encoding: .utf8)
        #expect(try t.host.loadDirectory(t.directory).map(\.fileName) == ["a.so", "b.so", "m.so", "x.so"])
    }

    @Test func operatorConfigDeniesDisablesAndAllowLists() throws {
        let config = try OperatorConfig.parse("""
            {"plugins": {"allow": ["fx-services", "fx-hostread", "fx-spawn"], "deny": ["fx-spawn"],
                         "entries": {"fx-hostread": {"enabled": false}}}}
            """, source: "test.json")
        let t = try TestHost(config: config)
        defer { t.close() }
        #expect(try t.load("Tests/Fixtures/c/services.c", as: "services.so").state == .loaded)
        let disabled = try t.load("Tests/Fixtures/c/host_read.c", as: "read.so")
        #expect(disabled.reason == "disabled by operator config (plugins.entries.fx-hostread.enabled = false)")
        let denied = try t.load("Tests/Fixtures/c/spawn.c", as: "spawn.so")
        #expect(denied.reason == "denied by operator config (plugins.deny contains 'fx-spawn')")
        let notAllowed = try t.load("Tests/Fixtures/c/steer.c", as: "steer.so")
        #expect(notAllowed.reason == "not allowed by operator config (plugins.allow does not list 'fx-steer')")
    }

    @Test func pluginsExportOnlyTheEntrySymbol() throws {
        let t = try TestHost()
        defer { t.close() }
        for source in ["SamplePlugins/c/sample_plugin.c", "Tests/Fixtures/c/spawn.c"] {
            let path = try t.add(source, as: "hygiene.so")
            let symbols = try exportedSymbols(path)
            #expect(symbols == ["pincer_plugin"], "\(source) exports \(symbols)")
        }
    }
}

@Suite struct OperatorConfigTests {
    @Test(arguments: [
        ("{\"plugins\": {\"entries\": {\"x\": {\"enabeld\": true}}}}", "cfg.json: plugins.entries.x.enabeld is not a known setting"),
        ("{\"guards\": {\"maxConcurrentSpawns\": \"ten\"}}", "cfg.json: guards.maxConcurrentSpawns must be a whole number"),
        ("{\"plugins\": {\"deny\": [1]}}", "cfg.json: plugins.deny[0] must be a string, not a number"),
        ("{\"plugins\": {\"entries\": {\"x\": {\"capabilities\": [\"root\"]}}}}", "names unknown capability 'root'"),
        ("{\"plugins\": {\"allow\": [\"a\",]}}", "cfg.json: line 1, column 28"),
        ("{\"engine\": {\"maxTurns\": 0}}", "engine.maxTurns must be a whole number from 1"),
        ("{\"engine\": {\"retainedRuns\": 0}}", "cfg.json: engine.retainedRuns must be a whole number from 1 to 10000000"),
        ("{\"engine\": {\"maxSessions\": -1}}", "cfg.json: engine.maxSessions must be a whole number from 1 to 10000000"),
        ("{\"log\": {\"level\": \"loud\"}}", "cfg.json: log.level must be one of trace, debug, info, notice, warning, error, critical, not \"loud\""),
        ("{\"plugins\": {\"entries\": {\"x\": {\"allowedModels\": [\"m\"]}}}}", "plugins.entries.x.allowedModels has no effect unless plugins.entries.x.allowModelOverride is true"),
        ("{\"plugins\": {\"entries\": {\"x\": {\"sessionAccess\": \"some\"}}}}", "plugins.entries.x.sessionAccess must be \"own\" or \"all\""),
        ("{\"providers\": [{\"name\": \"o\", \"baseURL\": \"http://h/v1\", \"models\": []}]}", "cfg.json: providers[0].models must name at least one model"),
        ("{\"providers\": [{\"name\": \"o\", \"models\": [\"m\"], \"apiKey\": \"sk\"}]}", "cfg.json: providers[0].apiKey is not a known setting"),
        ("{\"providers\": [{\"name\": \"o\", \"baseURL\": \"http://h/v1\", \"models\": [{\"contextWindow\": 8}]}]}", "cfg.json: providers[0].models[0] must be a model name or an object with \"name\""),
        ("{\"providers\": [{\"name\": \"o\", \"baseURL\": \"http://h/v1\", \"models\": [{\"name\": \"m\", \"contextWindow\": 0}]}]}", "cfg.json: providers[0].models[0].contextWindow must be a whole number from 1"),
        ("{\"hooks\": {\"defaultDeadlineMs\": 0}}", "cfg.json: hooks.defaultDeadlineMs must be a whole number from 1 to 60000"),
        ("{\"engine\": {\"workspaceDir\": \"relative\"}}", "cfg.json: engine.workspaceDir must be an absolute path"),
    ])
    func rejectsBadSettingsNamingThem(text: String, message: String) {
        #expect(throws: OperatorConfig.Invalid.self) { try OperatorConfig.parse(text, source: "cfg.json") }
        do {
            _ = try OperatorConfig.parse(text, source: "cfg.json")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    @Test func theREADMEsExampleConfigIsValid() throws {
        let config = try OperatorConfig.parse(try Repo.codeBlock("json", in: "README.md"), source: "README.md")
        #expect(config.entries["c-sample"]?.capabilities?.count == 6)
        #expect(config.entries["c-sample"]?.required == true)
        #expect(config.engine.modelOverrides["c-sample"] == .some(["local/instant"]))
        #expect(config.providers.map(\.name) == ["openai", "llama"])
        #expect(config.engine.maxConcurrentChildSessions == 5)
        #expect(config.engine.maxConcurrentRuns == 64)
        #expect(config.pluginLogLevel == .warning && config.logLevel == .info)
        #expect(config.providers.first?.apiKeyEnv == "OPENAI_API_KEY")
        #expect(config.providers.first?.models == ["gpt-4o-mini", "gpt-4o"])
        #expect(config.providers.first?.contextWindows == ["gpt-4o": 128_000])
    }

    @Test func readsEverySetting() throws {
        let config = try OperatorConfig.parse("""
            {"plugins": {"entries": {"p": {"enabled": true, "capabilities": ["host.read"], "config": {"k": [1, 2]}}}},
             "guards": {"maxConcurrentSpawns": 3, "maxSpawnsPerMinute": 7},
             "engine": {"defaultModel": "local/instant", "tokenDelayMs": 0, "defaultRunTimeoutSeconds": 9, "maxTurns": 4, "retainedRuns": 500,
                        "maxSessions": 700},
             "rateLimit": {"maxKeysPerPlugin": 50}}
            """, source: "cfg.json")
        #expect(config.engine.maxConcurrentSpawns == 3)
        #expect(config.engine.maxSpawnsPerMinute == 7)
        #expect(config.engine.defaultModel == "local/instant")
        #expect(config.engine.tokenDelayMs == 0)
        #expect(config.engine.defaultRunTimeoutSeconds == 9)
        #expect(config.engine.maxTurns == 4)
        #expect(config.engine.retainedRuns == 500)
        #expect(config.engine.maxSessions == 700)
        #expect(config.engine.rateLimitMaxKeysPerPlugin == 50)
        #expect(config.entries["p"]?.capabilities == ["host.read"])
        #expect(config.entries["p"]?.config.description == "{\"k\":[1,2]}")
    }
}
