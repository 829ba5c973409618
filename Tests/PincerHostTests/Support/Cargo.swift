// Builds Rust plugins with cargo, the way a Rust plugin author does (a cdylib
// depending on SDKs/rust by path), so the tests load what cargo really makes.
// One target directory under build/ (gitignored), shared with scripts/build,
// so each crate compiles once; builds run one at a time (-j 1: the machine
// has two cores) and offline (no registry is reachable, and the SDK needs none).

import Foundation
import Synchronization

enum Cargo {
    static let targetDirectory = Repo.path("build/cargo")
    private static let built = Mutex<[String: String]>([:])

    /// cargo from PATH, else rustup's default place (a shell that never sourced ~/.cargo/env).
    static let executable: String = {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["\(home)/.cargo/bin"] {
            if FileManager.default.isExecutableFile(atPath: "\(dir)/cargo") { return "\(dir)/cargo" }
        }
        return "cargo"
    }()

    /// Runs `cargo ARGS` in the repository with the shared target directory; its standard output.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let env = ProcessInfo.processInfo.environment.merging(["CARGO_TARGET_DIR": targetDirectory]) { $1 }
        return try built.withLock { _ in try runCommand(executable, arguments, environment: env) }
    }

    /// Builds the cdylib crate at `manifestDirectory` (relative to the repository, or absolute),
    /// once per process, and returns the path of its .so in the target directory.
    static func build(_ manifestDirectory: String, library: String, release: Bool = false) throws -> String {
        let key = "\(manifestDirectory) \(release)"
        if let path = built.withLock({ $0[key] }) { return path }
        try run(["build", "--offline", "-j", "1", "--quiet", "--manifest-path", (manifestDirectory.hasPrefix("/") ? manifestDirectory : Repo.path(manifestDirectory)) + "/Cargo.toml"]
                + (release ? ["--release"] : []))
        let path = "\(targetDirectory)/\(release ? "release" : "debug")/lib\(library).so"
        built.withLock { $0[key] = path }
        return path
    }

    /// Builds the crate and copies its .so into `directory` as `name` (each test loads its own copy).
    static func plugin(_ manifestDirectory: String, library: String, into directory: String, as name: String) throws -> String {
        let built = try build(manifestDirectory, library: library)
        let destination = "\(directory)/\(name)"
        try? FileManager.default.removeItem(atPath: destination)
        try FileManager.default.copyItem(atPath: built, toPath: destination)
        return destination
    }
}
