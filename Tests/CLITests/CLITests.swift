// The command line as scripts see it, through the built `pincer` binary: each
// run outcome has its own exit status, runtime errors are one `pincer:` line on
// stderr without usage text, and `run` needs no --plugins.

import Foundation
import Testing

@Suite struct CLITests {
    /// The binary `swift build` and `swift test` leave in the package's .build directory.
    static let binary = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/pincer")

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `pincer` with `arguments` to its end.
    func pincer(_ arguments: [String]) throws -> Outcome {
        try #require(FileManager.default.isExecutableFile(atPath: CLITests.binary.path),
                     "no pincer binary at \(CLITests.binary.path): build it first (swift build)")
        let process = Process()
        process.executableURL = CLITests.binary
        process.arguments = arguments
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Both outputs are a few lines, far below a pipe's buffer: reading one after the other cannot block the child.
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    /// A config file holding `json`, removed when `body` returns.
    func withConfig<T>(_ json: String, _ body: (String) throws -> T) throws -> T {
        let path = NSTemporaryDirectory() + "pincer-cli-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    @Test func aCompletedRunExits0AndNeedsNoPlugins() throws {
        let outcome = try pincer(["run", "--no-store", "hello"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("assistant  You said: hello."))
        #expect(outcome.stdout.contains(" completed in "))
        #expect(outcome.stderr.isEmpty)
    }

    @Test func aFailedRunExits3WithItsErrorOnStderr() throws {
        let outcome = try pincer(["run", "--no-store", "please #fail"])
        #expect(outcome.status == 3)
        #expect(outcome.stderr.hasPrefix("pincer: run "))
        #expect(outcome.stderr.contains(" failed in "))
        #expect(outcome.stderr.contains("the local model was asked to fail"))
        #expect(outcome.stdout.contains("user       please #fail"), "the transcript is still printed")
    }

    @Test func aTimedOutRunExits4() throws {
        let outcome = try withConfig(#"{"engine": {"defaultRunTimeoutSeconds": 1}}"#) { config in
            try pincer(["run", "--no-store", "--config", config, #"@sleep{"ms":5000}"#])
        }
        #expect(outcome.status == 4, "\(outcome.stderr)")
        #expect(outcome.stderr.contains(" timed_out in "))
    }

    @Test func aMissingStoreExits1WithOneLineNamingIt() throws {
        let outcome = try pincer(["sessions", "list", "--store", "/nonexistent/x.sqlite"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == "pincer: no store at /nonexistent/x.sqlite\n")
        #expect(outcome.stdout.isEmpty)
    }

    @Test func anUnknownConfigSettingExits1NamingTheFileAndTheSetting() throws {
        try withConfig(#"{"plugins": {"bogus": true}}"#) { config in
            let outcome = try pincer(["run", "--no-store", "--config", config, "hello"])
            #expect(outcome.status == 1)
            #expect(outcome.stderr.hasPrefix("pincer: \(config): plugins.bogus is not a known setting"), "\(outcome.stderr)")
            #expect(outcome.stderr.split(separator: "\n").count == 1)
            #expect(!outcome.stderr.lowercased().contains("usage"))
        }
    }

    @Test func metadataSeedsTheOperatorsNamespaceAndRefusesUnknownOnes() throws {
        let own = try pincer(["run", "--no-store", "--metadata", #"{"operator": {"ticket": 123456789012345678}}"#, "hello"])
        #expect(own.status == 0, "\(own.stderr)")
        let unknown = try pincer(["run", "--no-store", "--metadata", #"{"nobody": {}}"#, "hello"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "pincer: metadata_json names namespace 'nobody', which is no loaded plugin's id\n", "\(unknown.stderr)")
        let notObject = try pincer(["run", "--no-store", "--metadata", "[1]", "hello"])
        #expect(notObject.status == 1 && notObject.stderr.contains("--metadata must be a JSON object keyed by namespace"), "\(notObject.stderr)")
    }

    @Test func toolsListGivesEachToolsSchemaGroupAndTheHostsPolicy() throws {
        let outcome = try withConfig(#"{"tools": {"deny": ["sleep"]}}"#) { config in
            try pincer(["tools", "list", "--config", config, "--json"])
        }
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let tools = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: tools.compactMap { tool in (tool["name"] as? String).map { ($0, tool) } })
        #expect(Set(byName.keys).isSuperset(of: ["echo", "sleep", "clock", "sessions_spawn", "sessions_steer", "gateway"]))
        let echo = try #require(byName["echo"])
        #expect(echo["group"] as? String == "basic")
        #expect(echo["owner"] as? String == "host")
        #expect(echo["hostPolicy"] as? String == "allowed")
        #expect(((echo["parameters"] as? [String: Any])?["properties"] as? [String: Any])?["text"] != nil)
        #expect((byName["sleep"]?["hostPolicy"] as? String)?.contains("deny pattern 'sleep'") == true)
        #expect((byName["sessions_spawn"]?["required"]) == nil && byName["sessions_spawn"]?["note"] != nil)

        let table = try pincer(["tools", "list"])
        #expect(table.stdout.split(separator: "\n").first?.hasPrefix("NAME") == true)
        #expect(table.stdout.contains("sessions_steer  sessions"))
        #expect(table.stdout.contains("sessionKey: string, text: string"))
    }

    @Test func aRequiredPluginThatDoesNotLoadStopsTheHost() throws {
        let directory = NSTemporaryDirectory() + "pincer-cli-plugins-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "not a plugin".write(toFile: "\(directory)/policy.so", atomically: true, encoding: .utf8)
        let outcome = try withConfig(#"{"plugins": {"entries": {"policy": {"required": true}}}}"#) { config in
            try pincer(["run", "--no-store", "--plugins", directory, "--config", config, "hello"])
        }
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("pincer: plugins.entries.policy.required is true, but no plugin in \(directory) has that id; the host does not start without it"),
                "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("You said"), "the session ran without its required plugin")
    }

    @Test func aMissingPluginsDirectoryExits1() throws {
        let outcome = try pincer(["run", "--no-store", "--plugins", "/nonexistent/plugins", "hello"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == "pincer: --plugins /nonexistent/plugins: no such directory\n")
    }

    /// pincer carries no network stack: a config naming an OpenAI-compatible server makes it run the
    /// command in pincer-server, whose provider then tries the server (here, a closed port).
    @Test func aConfigNamingANetworkProviderRunsTheCommandWithTheNetworkStack() throws {
        let outcome = try withConfig(#"{"providers": [{"name": "lab", "baseURL": "http://127.0.0.1:9/v1", "models": ["mid"], "maxRetries": 0}]}"#) { config in
            try pincer(["run", "--no-store", "--config", config, "--model", "lab/mid", "hello"])
        }
        #expect(outcome.status == 3, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("model 'lab/mid' failed: cannot reach http://127.0.0.1:9/v1/chat/completions"), "\(outcome.stderr)")
        let without = try pincer(["run", "--no-store", "--model", "lab/mid", "hello"])
        #expect(without.status == 1)
        #expect(without.stderr.contains("model 'lab/mid' is not in the catalog"), "\(without.stderr)")
    }

    @Test(arguments: [["plugins", "list"], ["run", "--no-store"], ["run", "--no-store", "--bogus", "hello"]])
    func usageErrorsExit64WithTheUsage(arguments: [String]) throws {
        let outcome = try pincer(arguments)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("Usage: pincer "), "\(outcome.stderr)")
    }
}
