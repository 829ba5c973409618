// Builds fixture plugins from the C sources in Tests/Fixtures/c with the
// system C compiler, the way a plugin author would: -shared -fPIC, the ABI
// headers from Include/, and the pincer-plugin.map version script. Each test
// gets its own copies in its own directory, so the same fixture loaded by two
// tests is two plugins (dlopen shares one instance per file).

import Foundation
import PincerHost
import Synchronization

enum Repo {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// The first fenced code block in `language` of a Markdown file of the repository.
    static func codeBlock(_ language: String, in file: String) throws -> String {
        let text = try String(contentsOfFile: path(file), encoding: .utf8)
        guard let start = text.range(of: "```\(language)\n"),
              let end = text.range(of: "```", range: start.upperBound..<text.endIndex)
        else { throw CommandFailure(description: "\(file) has no ```\(language) block") }
        return String(text[start.upperBound..<end.lowerBound])
    }
}

struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

/// Starts a command with its output going to `output`.out / `output`.err, returning its pid.
///
/// Spawned with posix_spawn and an empty signal mask: test threads may block
/// SIGCHLD, and a child inheriting that mask (cmake's libuv) waits forever for
/// its own children. Output goes to files, so neither stream can fill a pipe.
func startProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, output: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, output + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var defaults = sigset_t()
    sigfillset(&defaults)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup($0) } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard spawned == 0 else { throw CommandFailure(description: "cannot start \(executable): \(String(cString: strerror(spawned)))") }
    return pid
}

/// Runs a command to its end, returning its standard output; throws with its output when it fails.
@discardableResult
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
    let result = try runCommandStatus(executable, arguments, environment: environment)
    guard result.status == 0 else {
        throw CommandFailure(description: "\(executable) \(arguments.joined(separator: " ")) \(result.status > 0 ? "exited \(result.status)" : "was killed by signal \(-result.status)"): \(result.output)\(result.errors)")
    }
    return result.output
}

/// Runs a command to its end: its exit status (minus the signal when killed), standard output and standard error.
/// With `killAfter`, a command still running after that many seconds is killed with SIGKILL (status -9),
/// so a hung child fails its test instead of hanging the run.
func runCommandStatus(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                      killAfter seconds: Double? = nil) throws -> (status: Int32, output: String, errors: String) {
    let output = NSTemporaryDirectory() + "pincer-cmd-\(UUID().uuidString)"
    defer { unlink(output + ".out"); unlink(output + ".err") }
    let pid = try startProcess(executable, arguments, environment: environment, output: output)
    var status: Int32 = 0
    if let seconds {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped == -1 && errno != EINTR) { break }
            if Date() >= deadline { kill(pid, SIGKILL) }
            usleep(10_000)
        }
    } else {
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
    }
    let out = (try? String(contentsOfFile: output + ".out", encoding: .utf8)) ?? ""
    let errors = (try? String(contentsOfFile: output + ".err", encoding: .utf8)) ?? ""
    let exited = status & 0x7f == 0
    return (exited ? (status >> 8) & 0xff : -(status & 0x7f), out, errors)
}

/// The names a shared object exports (`nm -D --defined-only`): what another image could bind to.
func exportedSymbols(_ path: String) throws -> [String] { try ExportedSymbols.of(path) }

enum Fixtures {
    private static let cache = Mutex<[String: String]>([:])
    /// This test process's own directory: the compiled fixtures and scratchDirectory's, removed
    /// when the process exits (a crashed run leaves it behind).
    private static let cacheDirectory: String = {
        try? FileManager.default.createDirectory(atPath: processDirectory, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Fixtures.processDirectory) }
        return processDirectory
    }()
    private static let processDirectory = NSTemporaryDirectory() + "pincer-fixtures-\(getpid())"

    /// A new, empty directory inside the process's own, for what a test keeps until the process ends.
    static func scratchDirectory(_ label: String) throws -> String {
        let directory = "\(cacheDirectory)/\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The frozen copy of the 1.0 headers: fixtures built against it prove a change to
    /// Include/ does not break a plugin already built.
    static let frozenABI = "Tests/Fixtures/abi/1.0"

    /// Compiles `source` (relative to the repository) with `flags` against the headers in
    /// `include` (relative too), once per process, and copies the result to `directory/name`.
    /// Returns the copy's path.
    @discardableResult
    static func build(_ source: String, flags: [String] = [], include: String = "Include", into directory: String, as name: String) throws -> String {
        let key = ([source, include] + flags).joined(separator: "\u{1}")
        let built = try cache.withLock { cache -> String in
            if let path = cache[key] { return path }
            let path = "\(cacheDirectory)/fixture-\(cache.count).so"
            // C fixtures as C11; C++ sources (the C++ sample) as C++17 with the header-only helpers.
            let compiler = source.hasSuffix(".cpp") ? ["c++", "-std=c++17", "-I", Repo.path("SDKs/cpp")] : ["cc", "-std=c11"]
            try runCommand("/usr/bin/env", compiler + ["-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-O1",
                                            "-I", Repo.path(include), "-I", Repo.path("Tests/Fixtures/c"),
                                            "-fvisibility=hidden",
                                            "-Wl,--version-script=" + Repo.path("\(include)/pincer/pincer-plugin.map")]
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
