// The floors (Benchmarks/floors/floors.c): the core steps of three measured
// paths in plain C (leaving out some work the host must do), compiled and run
// in this run, so each figure is printed beside what those steps cost without
// the host around them.

import Foundation

struct Floors {
    let binary: String
    /// pincer-bench --quick: the floors run 1/100 of their iterations too.
    let quick: Bool

    /// Compiles `source` (floors.c) into `directory`.
    init(source: String, directory: String, quick: Bool) throws {
        binary = "\(directory)/floors"
        self.quick = quick
        try runTool(["cc", "-std=gnu11", "-O2", source, "-o", binary, "-lsqlite3", "-lpthread"], what: "cc for \(source)")
    }

    /// Runs the floors program with `arguments`; its "name value" lines as a dictionary.
    func run(_ arguments: String...) throws -> [String: Double] {
        let arguments = (quick ? ["--quick"] : []) + arguments
        let output = try runTool([binary] + arguments, what: "floors \(arguments.joined(separator: " "))")
        var figures: [String: Double] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { figures[String(parts[0])] = value }
        }
        return figures
    }
}

/// Runs a program (found on PATH) to its end; its standard output, or an error naming `what`
/// when it fails.
@discardableResult
func runTool(_ arguments: [String], what: String, environment: [String: String] = [:]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(what) failed (exit \(process.terminationStatus))"])
    }
    return String(decoding: data, as: UTF8.self)
}
