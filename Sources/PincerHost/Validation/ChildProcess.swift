// A command run to its end (or killed at a deadline), its output kept in
// temporary files so neither pipe can fill and stall it. `pincer validate`
// runs each check this way, so a plugin that crashes or hangs costs one check.

import Foundation

public struct ChildProcess: Sendable {
    public enum Ending: Sendable, Equatable {
        case exited(Int32)
        /// Killed by a signal (a crash: SIGSEGV, SIGABRT, …).
        case signalled(Int32)
        /// Still running at the deadline, then killed.
        case timedOut
    }

    public let ending: Ending
    public let stdout: String
    public let stderr: String

    public struct LaunchFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `executable` with `arguments`; kills it (SIGKILL) when it outlives `timeoutSeconds`.
    public static func run(_ executable: String, _ arguments: [String], timeoutSeconds: Double) throws(LaunchFailure) -> ChildProcess {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pincer-child-\(UUID().uuidString)")
        let outURL = directory.appendingPathComponent("stdout"), errURL = directory.appendingPathComponent("stderr")
        defer { try? FileManager.default.removeItem(at: directory) }
        let process = Process()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for url in [outURL, errURL] where !FileManager.default.createFile(atPath: url.path, contents: nil) {
                throw LaunchFailure(description: "cannot create \(url.path)")
            }
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = try FileHandle(forWritingTo: outURL)
            process.standardError = try FileHandle(forWritingTo: errURL)
            try process.run()
        } catch {
            throw LaunchFailure(description: "cannot run \(executable): \(error.localizedDescription)")
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        var timedOut = false
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            timedOut = true
        }
        process.waitUntilExit()
        let read = { (url: URL) in (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
        let ending: Ending = timedOut ? .timedOut
            : process.terminationReason == .uncaughtSignal ? .signalled(process.terminationStatus) : .exited(process.terminationStatus)
        return ChildProcess(ending: ending, stdout: read(outURL), stderr: read(errURL))
    }
}
