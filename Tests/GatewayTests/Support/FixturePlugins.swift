// C fixture plugins for the gateway tests, compiled from Tests/Fixtures/c
// against the current headers, each into a directory of its own for --plugins.

import Foundation
import Synchronization

enum FixturePlugins {
    private static let built = Mutex<[String: String]>([:])

    /// This test process's own directory for plugins directories, removed when the process
    /// exits (a crashed run leaves it behind).
    static let processDirectory: String = {
        try? FileManager.default.createDirectory(atPath: processDirectoryPath, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: FixturePlugins.processDirectoryPath) }
        return processDirectoryPath
    }()
    private static let processDirectoryPath = NSTemporaryDirectory() + "pincer-gateway-plugins-\(getpid())"

    /// A directory holding `source` built as a plugin (once per test process).
    static func directory(_ source: String) throws -> String {
        try built.withLock { built in
            if let directory = built[source] { return directory }
            let directory = "\(processDirectory)/\(built.count)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let repo = ServerProcess.repo.path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-O1", "-fvisibility=hidden",
                                 "-I", "\(repo)/Include", "-I", "\(repo)/Tests/Fixtures/c",
                                 "-Wl,--version-script=\(repo)/Include/pincer/pincer-plugin.map",
                                 "\(repo)/\(source)", "-o", "\(directory)/plugin.so", "-lpthread"]
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw ServerProcess.ServerFailure(description: "cc \(source) failed") }
            built[source] = directory
            return directory
        }
    }
}
