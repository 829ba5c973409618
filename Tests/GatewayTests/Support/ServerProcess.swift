// A real `pincer serve` for the gateway tests: the built binary in a process of
// its own on a free loopback port, stopped by a signal as an operator would.
// Whatever blocks (reading a pipe, waiting for an exit) runs on a thread of its
// own: the tests' WebSocket clients need Swift's cooperative pool to answer.

import Foundation
import Testing

final class ServerProcess: @unchecked Sendable {  // set up once in init; `process` is thread-safe
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let pincer = repo.appendingPathComponent(".build/debug/pincer").path

    let process = Process()
    let port: Int
    private let stderrFile: String
    /// The config file written for it, if any; removed with the stderr file.
    private let configFile: String?
    private let stdoutPipe = Pipe()

    var url: String { "ws://127.0.0.1:\(port)/rpc" }
    var http: String { "http://127.0.0.1:\(port)" }

    /// Starts `pincer serve` with `config` (JSON text, or none) and waits until it listens.
    init(config: String? = nil, arguments: [String] = ["--no-store"], environment: [String: String] = [:]) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.pincer), "no pincer at \(Self.pincer): swift build first")
        let stamp = UUID().uuidString
        var args = ["serve", "--listen", "127.0.0.1:0"] + arguments
        configFile = config.map { _ in NSTemporaryDirectory() + "pincer-gateway-\(stamp).json" }
        if let config, let configFile {
            try config.write(toFile: configFile, atomically: true, encoding: .utf8)
            args += ["--config", configFile]
        }
        stderrFile = NSTemporaryDirectory() + "pincer-gateway-\(stamp).err"
        _ = FileManager.default.createFile(atPath: stderrFile, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.pincer)
        process.arguments = args
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = stdoutPipe
        process.standardError = FileHandle(forWritingAtPath: stderrFile)
        try process.run()
        // The first stdout line names the bound address.
        let reader = stdoutPipe.fileHandleForReading
        let text = await offPool {
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                line.append(chunk)
            }
            return String(decoding: line, as: UTF8.self)
        }
        guard let range = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
              let port = Int(text[range].split(separator: ":")[1]) else {
            process.waitUntilExit()
            let stderr = (try? String(contentsOfFile: stderrFile, encoding: .utf8)) ?? ""
            throw ServerFailure(description: "pincer serve did not start: \(text) \(stderr)")
        }
        self.port = port
    }

    struct ServerFailure: Error, CustomStringConvertible { let description: String }

    var stderr: String { (try? String(contentsOfFile: stderrFile, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// The server's resident set now, in KiB (/proc).
    var residentKiB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// Sends SIGTERM and waits (up to `seconds`) for the exit; its status, nil if it did not end.
    @discardableResult
    func stop(_ number: Int32 = SIGTERM, seconds: Double = 30) async -> Int32? {
        signal(number)
        return await waitForExit(seconds: seconds)
    }

    func waitForExit(seconds: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        for file in [stderrFile, configFile].compactMap({ $0 }) { try? FileManager.default.removeItem(atPath: file) }
    }
}

/// Runs `pincer` with `arguments` to its end: status, stdout, stderr.
func runPincer(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await runProgram(ServerProcess.pincer, arguments, environment: environment)
}

/// Runs `program` with `arguments` to its end: status, stdout, stderr.
func runProgram(_ program: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    return await offPool {
        // A few lines each, far below a pipe's buffer: reading one after the other cannot block the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

/// Runs blocking `work` on a thread of its own, off Swift's cooperative pool.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}
