// The C sample plugin, built from SamplePlugins/c, does its whole tour
// against a real host, and the `pincer` command line shows plugins and runs
// a session as an operator would see it.

import Foundation
import PincerCore
@testable import PincerHost
import Testing

@Suite struct SamplePluginTests {
    @Test func theSampleToursEveryHostFunction() throws {
        let t = try TestHost(tokenDelayMs: 2)
        defer { t.close() }
        let record = try t.load("SamplePlugins/c/sample_plugin.c", as: "libpincer_sample_c.so")
        #expect(record.state == .loaded, "\(record.reason ?? "")")
        #expect(record.capabilities == ["sessions.spawn", "sessions.read", "sessions.prompt", "sessions.delete", "sessions.metadata", "sessions.steer", "rate_limit", "host.read", "tools.register", "hooks.gate", "hooks.observe"])
        t.host.start()
        // The tour runs on the sample's own thread; the host stops plugins only after it ends
        // (a stopping plugin's blocking calls return SHUT_DOWN at once).
        let deadline = Date().addingTimeInterval(60)
        while !t.logs.contains("tour finished"), Date() < deadline { usleep(10_000) }
        t.host.shutdown()
        for line in [
            "(ABI 1.0-rc2) loaded me from \(t.directory)/libpincer_sample_c.so",
            "[c-sample] info: status: {\"host\":\"pincer\"",
            "[c-sample] info: models: {\"default\":\"local/scripted\"",
            "gateway_request sessions.delete: refused as it should be: DENIED",
            "spawn: session=plugin:c-sample:",
            "clock failed: tool 'clock' is denied by the session's tool policy",
            "set_metadata/get_metadata: my namespace now {\"ticket\":\"REL-42\",\"reviewed\":true}",
            "is_streaming: true",
            "steer while streaming: queued",
            "prompt/wait: run run-",
            "Steering noted: also confirm the changelog.",
            "steer on an idle session: no_active_run",
            "steer on an unknown session: no_session",
            "cancelled",
            "delete_session: done; get_session now answers NOT_FOUND",
            "5 allowed, request 6 refused (remaining 0, retry after",
            "rate_limit_reset: the next check is allowed (remaining 4)",
            "tool c-sample.greet: run run-",
            "Tool results: c-sample.greet → Hello, operator, from C.",
            "sleep failed: tool 'sleep' blocked by plugin 'c-sample' (before_tool_call hook): the C sample allows naps of at most 3000 ms",
            "run_event: run-",
            "{\"kind\":\"finished\",\"status\":\"completed\"",
            "tour finished",
        ] {
            #expect(t.logs.contains(line), "the tour did not log: \(line)\n\(t.logs.all.joined(separator: "\n"))")
        }
    }
}

@Suite struct CommandLineTests {
    private var pincer: String { Repo.path(".build/debug/pincer") }

    @Test func pluginsListShowsLoadedAndRefusedPlugins() throws {
        let t = try TestHost()
        defer { t.close() }
        try t.add("SamplePlugins/c/sample_plugin.c", as: "libpincer_sample_c.so")
        try t.add("Tests/Fixtures/c/services.c", as: "wrong-major.so", flags: ["-DFIXTURE_ABI_MAJOR=3"])
        let table = try runCommand(pincer, ["plugins", "list", "--plugins", t.directory])
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("ID") == true)
        #expect(lines.contains { $0.hasPrefix("c-sample") && $0.contains("0.1.0") && $0.contains("1.0.0") && $0.contains("loaded")
                && $0.contains("tool c-sample.greet, hook before_tool_call (priority 0), hook run_event (priority 0)") })
        #expect(lines.contains { $0.contains("3.0.0") && $0.contains("refused") && $0.contains("wrong-major.so: built for Pincer ABI 3.0.0") })
        let json = try JSON.parse(try runCommand(pincer, ["plugins", "list", "--plugins", t.directory, "--json"]))
        let states = json.arrayValue?.compactMap { $0["state"]?.stringValue }
        #expect(states == ["loaded", "refused"])
        #expect(json.arrayValue?.first?["tools"] == ["c-sample.greet"])
    }

    @Test func runPrintsTheTranscript() throws {
        let t = try TestHost()
        defer { t.close() }
        let out = try runCommand(pincer, ["run", "--plugins", t.directory, "--store", "\(t.directory)/store.sqlite",
                                          "--model", "local/instant", "hello @echo{\"text\":\"hi\"}"])
        #expect(out.contains("user       hello @echo{\"text\":\"hi\"}"))
        #expect(out.contains("tool       echo: hi"))
        #expect(out.contains("assistant  You said: hello. Tool results: echo → hi."))
        #expect(out.contains("completed in"))
    }

    @Test func badConfigIsAnErrorNamingTheSetting() throws {
        let t = try TestHost()
        defer { t.close() }
        let config = "\(t.directory)/pincer.json"
        try #"{"guards": {"maxSpawnsPerMinute": -1}}"#.write(toFile: config, atomically: true, encoding: .utf8)
        #expect(throws: CommandFailure.self) { try runCommand(pincer, ["plugins", "list", "--plugins", t.directory, "--config", config]) }
        do {
            try runCommand(pincer, ["plugins", "list", "--plugins", t.directory, "--config", config])
        } catch {
            #expect("\(error)".contains("pincer.json: guards.maxSpawnsPerMinute must be a whole number from 0 to 65535"), "\(error)")
        }
    }
}
