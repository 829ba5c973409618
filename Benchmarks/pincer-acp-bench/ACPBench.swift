// pincer-acp-bench: sessions on an external agent (ACP) against the same agent
// driven by a bare client, in the same run: the host's overhead as a ratio.
//
//   spawn → first answer  a new session on the ACP Python SDK's echo agent until its first
//                         answer (agent start, initialize, session/new, prompt; the echo agent's
//                         one chunk and its turn's end arrive together), vs a bare client doing
//                         the same over the agent's stdio
//   follow-up prompt      one more prompt on the live session until its answer, vs the same
//                         prompt from the bare client
//   memory per session    the host's resident growth per live agent session, and each agent
//                         process's own resident set
//
// Needs build/venv and build/acp-sdk (scripts/python-peers). Run built for release:
// scripts/bench (or swift run -c release pincer-acp-bench [--quick]).

import Foundation
import PincerCore
import PincerHost

@main
enum ACPBench {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let python = "\(repo)/build/venv/bin/python"
    static let echoAgent = "\(repo)/build/acp-sdk/examples/echo_agent.py"

    static func progress(_ line: String) { FileHandle.standardError.write(Data("bench: \(line)\n".utf8)) }

    static func main() throws {
        guard FileManager.default.isExecutableFile(atPath: python), FileManager.default.fileExists(atPath: echoAgent) else {
            print("pincer-acp-bench: skipped: no \(python) or \(echoAgent) (run scripts/python-peers)")
            return
        }
        let quick = CommandLine.arguments.contains("--quick")
        let rounds = quick ? 3 : 15, sessions = quick ? 4 : 16
        let workspace = NSTemporaryDirectory() + "pincer-acp-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: workspace) }
        let config = try OperatorConfig.parse("""
            {"acp": {"agents": {"echo": {"command": "\(python)", "args": ["\(echoAgent)"]}}, "maxConcurrentAgents": \(sessions + 2)},
             "engine": {"workspaceDir": "\(workspace)"}}
            """, source: "bench")
        let engine = try config.makeEngine()
        defer { engine.shutdown() }

        progress("spawn to first chunk and a follow-up: host vs bare client, \(rounds) rounds each, taking turns")
        var hostFirst: [Double] = [], bareFirst: [Double] = [], hostFollow: [Double] = [], bareFollow: [Double] = []
        for _ in 0..<rounds {
            let (first, follow, key) = try hostRound(engine)
            hostFirst.append(first)
            hostFollow.append(follow)
            try engine.deleteSession(key, by: .operator)
            let bare = try BareClient(command: python, arguments: [echoAgent], directory: workspace)
            bareFirst.append(bare.firstChunkMs)
            bareFollow.append(try bare.promptMs("and again"))
            bare.close()
        }

        progress("memory: \(sessions) live agent sessions")
        let before = residentKiB(getpid())
        var keys: [String] = []
        for _ in 0..<sessions { keys.append(try hostRound(engine).key) }
        let after = residentKiB(getpid())
        let agents = agentProcesses()
        let agentKiB = agents.map(residentKiB).reduce(0, +)

        print("pincer-acp-bench (\(quick ? "quick" : "full") run)")
        print(String(format: "spawn → first answer    host median %7.1f ms | bare client median %7.1f ms | ratio %.2fx",
                     median(hostFirst), median(bareFirst), median(hostFirst) / median(bareFirst)))
        print(String(format: "follow-up prompt        host median %7.2f ms | bare client median %7.2f ms | ratio %.2fx",
                     median(hostFollow), median(bareFollow), median(hostFollow) / median(bareFollow)))
        print(String(format: "memory per live session host %.1f KiB (RSS %d → %d KiB for %d sessions); each agent process %.0f KiB",
                     Double(after - before) / Double(sessions), before, after, sessions, agents.isEmpty ? 0 : Double(agentKiB) / Double(agents.count)))
        for key in keys { try? engine.deleteSession(key, by: .operator) }
    }

    /// A session on the echo agent until its first answer; then a follow-up until its answer (ms each).
    static func hostRound(_ engine: Engine) throws -> (first: Double, follow: Double, key: String) {
        let started = MonotonicClock.nanoseconds()
        let spawned = try engine.spawn(SessionSpec(message: "hello", model: "acp/echo"), by: .operator)
        _ = try engine.wait(runId: spawned.runId, timeoutMs: 30_000, by: .operator)
        let first = Double(MonotonicClock.nanoseconds() - started) / 1e6
        let followStarted = MonotonicClock.nanoseconds()
        let run = try engine.prompt(sessionKey: spawned.sessionKey, text: "and again", by: .operator)
        _ = try engine.wait(runId: run, timeoutMs: 30_000, by: .operator)
        return (first, Double(MonotonicClock.nanoseconds() - followStarted) / 1e6, spawned.sessionKey)
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func residentKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// This process's agent children (their command line names the echo agent).
    static func agentProcesses() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { pid in
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  status.contains("PPid:\t\(getpid())\n"),
                  let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: command, as: UTF8.self).contains("echo_agent.py")
        }
    }
}

/// The baseline: the agent driven by hand over pipes (Foundation's Process), one JSON line each way.
final class BareClient {
    let process = Process()
    let input = Pipe(), output = Pipe()
    private var buffer = Data()
    private var nextId = 0
    private var sessionId = ""
    private(set) var firstChunkMs = 0.0

    init(command: String, arguments: [String], directory: String) throws {
        let started = MonotonicClock.nanoseconds()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        _ = try request("initialize", #"{"protocolVersion":1,"clientCapabilities":{}}"#)
        sessionId = try request("session/new", #"{"cwd":"\#(directory)","mcpServers":[]}"#)["sessionId"]?.stringValue ?? ""
        try send("session/prompt", #"{"sessionId":"\#(sessionId)","prompt":[{"type":"text","text":"hello"}]}"#)
        while try line()["result"]?["stopReason"] == nil {}
        firstChunkMs = Double(MonotonicClock.nanoseconds() - started) / 1e6
    }

    func promptMs(_ text: String) throws -> Double {
        let started = MonotonicClock.nanoseconds()
        try send("session/prompt", #"{"sessionId":"\#(sessionId)","prompt":[{"type":"text","text":"\#(text)"}]}"#)
        while try line()["result"]?["stopReason"] == nil {}
        return Double(MonotonicClock.nanoseconds() - started) / 1e6
    }

    func close() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private func send(_ method: String, _ params: String) throws {
        input.fileHandleForWriting.write(Data(#"{"jsonrpc":"2.0","id":\#(nextId),"method":"\#(method)","params":\#(params)}"#.utf8 + [0x0A]))
        nextId += 1
    }

    private func request(_ method: String, _ params: String) throws -> JSON {
        try send(method, params)
        while true {
            let message = try line()
            if message["method"] == nil, let result = message["result"] { return result }
        }
    }

    private func line() throws -> JSON {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let text = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return try JSON.parse(text)
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw ACPBenchFailure(description: "the agent closed its output") }
            buffer.append(chunk)
        }
    }
}

struct ACPBenchFailure: Error, CustomStringConvertible { let description: String }
