// Builds fixture plugins from the C sources in Tests/Fixtures/c with the
// system C compiler, the way a plugin author would: -shared -fPIC, the ABI
// headers from Include/, and the pincer-plugin.map version script. Each test
// gets its own copies in its own directory, so the same fixture loaded by two
// tests is two plugins (dlopen shares one instance per file).

import Foundation
import Synchronization

enum Repo {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

/// Runs a command, returning its standard output; throws with its output when it fails.
@discardableResult
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: output, as: UTF8.self)
    guard process.terminationStatus == 0 else {
        throw CommandFailure(description: "\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(text)\(String(decoding: errors, as: UTF8.self))")
    }
    return text
}

enum Fixtures {
    private static let cache = Mutex<[String: String]>([:])
    private static let cacheDirectory: String = {
        let dir = NSTemporaryDirectory() + "pincer-fixtures-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Compiles `source` (relative to the repository) with `flags`, once per process, and copies
    /// the result to `directory/name`. Returns the copy's path.
    @discardableResult
    static func build(_ source: String, flags: [String] = [], into directory: String, as name: String) throws -> String {
        let key = ([source] + flags).joined(separator: "\u{1}")
        let built = try cache.withLock { cache -> String in
            if let path = cache[key] { return path }
            let path = "\(cacheDirectory)/fixture-\(cache.count).so"
            try runCommand("/usr/bin/env", ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-O1",
                                            "-I", Repo.path("Include"), "-I", Repo.path("Tests/Fixtures/c"),
                                            "-fvisibility=hidden",
                                            "-Wl,--version-script=" + Repo.path("Include/pincer/pincer-plugin.map")]
                           + flags + [Repo.path(source), "-o", path, "-lpthread"])
            cache[key] = path
            return path
        }
        let destination = "\(directory)/\(name)"
        try? FileManager.default.removeItem(atPath: destination)
        try FileManager.default.copyItem(atPath: built, toPath: destination)
        return destination
    }
}
