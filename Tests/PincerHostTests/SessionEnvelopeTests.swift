// The Swift sample session-envelope, end to end: built with SwiftPM, loaded
// by the real `pincer run` beside the C sample workspace-tools, holding
// operator sessions to the policy handed in --metadata. The built-in local
// model calls the tools (@tool{json}).

import Foundation
import PincerCore
import Testing

@Suite(.serialized) struct SessionEnvelopeTests {
    /// A plugin directory with both plugins, a workspace holding docs/readme.txt and
    /// secret.txt, and an operator config that names the workspace once (engine.workspaceDir:
    /// the envelope's hook events and the tools' calls both carry it) and grants the envelope
    /// nothing beyond its descriptor: the namespace handed in --metadata places each session under it.
    final class Setup {
        let t: TestHost
        let workspace: String
        let config: String

        init() throws {
            t = try TestHost()
            workspace = "\(t.directory)/workspace"
            try FileManager.default.createDirectory(atPath: "\(workspace)/docs", withIntermediateDirectories: true)
            try "the docs".write(toFile: "\(workspace)/docs/readme.txt", atomically: true, encoding: .utf8)
            try "the secret".write(toFile: "\(workspace)/secret.txt", atomically: true, encoding: .utf8)
            let plugins = "\(t.directory)/plugins"
            try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
            try Fixtures.build("SamplePlugins/c/workspace-tools/workspace_tools.c", into: plugins, as: "libpincer_workspace_tools.so")
            try FileManager.default.copyItem(atPath: try SwiftPlugins.build("SamplePlugins/swift/session-envelope", product: "session-envelope"),
                                             toPath: "\(plugins)/libsession-envelope.so")
            config = "\(t.directory)/pincer.json"
            try """
                {"engine": {"workspaceDir": "\(workspace)", "tokenDelayMs": 0}}
                """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        /// `pincer run` with the policy as the envelope's namespace; its status and all it printed.
        func run(policy: String, _ message: String) throws -> (status: Int32, output: String) {
            let result = try runCommandStatus(Repo.path(".build/debug/pincer"), [
                "run", "--plugins", "\(t.directory)/plugins", "--config", config, "--store", "\(t.directory)/store.sqlite",
                "--model", "local/instant", "--metadata", "{\"session-envelope\": \(policy)}", message], killAfter: 120)
            return (result.status, result.output + result.errors)
        }
    }

    static let policy = #"{"allowedPaths": ["docs"], "commands": ["date", "uname"], "deniedTools": ["clock"]}"#

    @Test func blocksASessionWhosePolicyIsMalformed() throws {
        let s = try Setup()
        for (policy, reason) in [
            (#"{"allowedPaths": "docs"}"#, "policy member 'allowedPaths' must be a list of non-empty strings"),
            (#"{"commands": ["date"], "alowedTools": []}"#, "unknown policy member 'alowedTools'"),
            (#"{"allowedPaths": ["docs/../.."]}"#, "allowed path 'docs/../..' contains '..'"),
        ] {
            let (status, output) = try s.run(policy: policy, "hello")
            #expect(status == 1, "\(output)")
            #expect(output.contains("spawn refused: blocked by plugin 'session-envelope' (before_session_create hook): session-envelope: malformed policy: \(reason)"),
                    "\(output)")
        }
    }

    @Test func blocksAPathOutsideTheAllowedPaths() throws {
        let s = try Setup()
        let (status, output) = try s.run(policy: Self.policy,
                                         #"read @workspace-tools.read_file{"path":"secret.txt"} @workspace-tools.read_file{"path":"docs/../secret.txt"}"#)
        #expect(status == 0, "\(output)")
        #expect(output.contains("session-envelope: path 'secret.txt' (\(s.workspace)/secret.txt) is outside the envelope's allowed paths"), "\(output)")
        #expect(output.contains("session-envelope: path 'docs/../secret.txt' (\(s.workspace)/secret.txt) is outside"), "\(output)")
        #expect(!output.contains("the secret"), "\(output)")
    }

    @Test func blocksACommandNotOnTheAllowlistAndADeniedTool() throws {
        let s = try Setup()
        let (status, output) = try s.run(policy: Self.policy, #"go @workspace-tools.run_command{"command":"echo","text":"hi"} @clock"#)
        #expect(status == 0, "\(output)")
        #expect(output.contains("session-envelope: command 'echo' is not on the envelope's allowlist"), "\(output)")
        #expect(output.contains("session-envelope: tool 'clock' is denied by the session's envelope"), "\(output)")
    }

    @Test func allowsWhatThePolicyAllows() throws {
        let s = try Setup()
        let (status, output) = try s.run(policy: Self.policy,
                                         #"go @workspace-tools.read_file{"path":"docs/readme.txt"} @workspace-tools.run_command{"command":"uname"}"#)
        #expect(status == 0, "\(output)")
        #expect(output.contains("tool       workspace-tools.read_file: the docs"), "\(output)")
        #expect(output.contains("tool       workspace-tools.run_command: Linux"), "\(output)")
        #expect(!output.contains("session-envelope:"), "\(output)")
    }
}
