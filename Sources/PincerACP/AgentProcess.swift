// An external agent as a child process: its own process group (so one kill
// reaches everything it started), pipes for stdin, stdout and stderr, and a
// parent-death signal so it does not outlive a host killed with SIGKILL.
//
// What is covered, and what is not:
//  - cancel, timeout, delete, host shutdown: the whole group gets SIGTERM, then
//    SIGKILL after a grace, and the child is reaped (no zombie);
//  - the host killed with SIGKILL: the agent itself gets SIGKILL from the
//    kernel (PR_SET_PDEATHSIG, set by the exec shim `setpriv --pdeathsig KILL`
//    from util-linux, in every Debian). The signal fires when the *thread* that
//    spawned the child ends, so every agent is spawned from one long-lived
//    thread (AgentSpawner) that never ends while the host runs. Processes the
//    agent itself started are in its group but get no death signal of their own:
//    an agent whose children ignore its death can leave them behind after a
//    SIGKILL of the host (never after an orderly stop, which kills the group).
//    Without setpriv on the machine, the death signal is not set.

import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

public final class AgentProcess: Sendable {
    public let pid: pid_t
    /// The write end of the agent's stdin, and the read ends of its stdout and stderr.
    let stdin: Int32
    let stdout: Int32
    let stderr: Int32
    private let exit = Mutex<Int32?>(nil)

    public struct SpawnFailure: Error, CustomStringConvertible {
        public let description: String
    }

    init(pid: pid_t, stdin: Int32, stdout: Int32, stderr: Int32) {
        (self.pid, self.stdin, self.stdout, self.stderr) = (pid, stdin, stdout, stderr)
    }

    /// Starts `executable` with `arguments` in `directory`, with `environment` added to a minimal one.
    public static func start(executable: String, arguments: [String], directory: String, environment: [String: String]) throws(SpawnFailure) -> AgentProcess {
        try AgentSpawner.shared.spawn(executable: executable, arguments: arguments, directory: directory, environment: environment)
    }

    /// The exit status once the process has been reaped (a signal as 128 + its number).
    public var exitStatus: Int32? { exit.withLock { $0 } }

    /// Reaps the child if it has exited; its status, or nil while it runs.
    @discardableResult
    public func reap(waiting: Bool = false) -> Int32? {
        if let status = exitStatus { return status }
        var status: Int32 = 0
        let result = waitpid(pid, &status, waiting ? 0 : WNOHANG)
        guard result == pid else { return nil }
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        exit.withLock { $0 = code }
        return code
    }

    /// Ends the whole process group: stdin closed (an ACP agent then exits by itself), after a
    /// short wait SIGTERM, then SIGKILL after `graceMs`; the child is reaped.
    public func terminateGroup(graceMs: Int = 2000) {
        closeInput()
        let polite = Date().addingTimeInterval(0.5)
        while reap() == nil, Date() < polite { usleep(10_000) }
        guard reap() == nil else {
            kill(-pid, SIGKILL)  // whatever the agent started and left in its group
            return
        }
        kill(-pid, SIGTERM)
        let deadline = Date().addingTimeInterval(Double(graceMs) / 1000)
        while reap() == nil, Date() < deadline { usleep(10_000) }
        if reap() == nil {
            kill(-pid, SIGKILL)
            reap(waiting: true)
        } else {
            kill(-pid, SIGKILL)  // whatever the agent started and left in its group
        }
    }

    private let inputClosed = Atomic<Bool>(false)

    /// Closes the agent's stdin (an ACP agent then ends by itself).
    public func closeInput() {
        if !inputClosed.exchange(true, ordering: .relaxed) { close(stdin) }
    }
}

/// The one long-lived thread every agent is spawned from (see "the host killed with SIGKILL" above).
final class AgentSpawner: @unchecked Sendable {  // its queue is guarded by `condition`
    static let shared = AgentSpawner()

    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    /// The exec shim that sets the parent-death signal, when the machine has it.
    let shim: String? = FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") ? "/usr/bin/setpriv" : nil

    private init() {
        let thread = Thread { [self] in serve() }
        thread.name = "pincer-agent-spawner"
        thread.start()
    }

    private func serve() {
        condition.lock()
        while true {
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
            condition.lock()
        }
    }

    /// Spawns on the spawner thread and waits for the outcome.
    func spawn(executable: String, arguments: [String], directory: String, environment: [String: String]) throws(AgentProcess.SpawnFailure) -> AgentProcess {
        let outcome = Mutex<Result<AgentProcess, AgentProcess.SpawnFailure>?>(nil)
        let done = NSCondition()
        condition.lock()
        jobs.append { [self] in
            let result = Self.posixSpawn(executable: executable, arguments: arguments, directory: directory, environment: environment, shim: shim)
            done.lock()
            outcome.withLock { $0 = result }
            done.signal()
            done.unlock()
        }
        condition.signal()
        condition.unlock()
        done.lock()
        while outcome.withLock({ $0 }) == nil { done.wait() }
        done.unlock()
        return try outcome.withLock { $0! }.get()
    }

    /// posix_spawn in a new process group, the agent's end of three pipes as its stdio.
    static func posixSpawn(executable: String, arguments: [String], directory: String, environment: [String: String],
                           shim: String?) -> Result<AgentProcess, AgentProcess.SpawnFailure> {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            return .failure(.init(description: "\(executable) is not an executable file"))
        }
        var input: [Int32] = [0, 0], output: [Int32] = [0, 0], errors: [Int32] = [0, 0]
        guard pipe(&input) == 0, pipe(&output) == 0, pipe(&errors) == 0 else {
            return .failure(.init(description: "cannot create pipes: \(String(cString: strerror(errno)))"))
        }
        // No descriptor of these pipes leaks into another child: the agent gets its ends as 0, 1, 2.
        for fd in input + output + errors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // The shims: setpriv sets the death signal, env -C the working directory (coreutils), then exec the agent.
        let argv = (shim.map { [$0, "--pdeathsig", "KILL", "--"] } ?? []) + ["/usr/bin/env", "-C", directory, "--", executable] + arguments
        let base = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory, "LANG": "C.UTF-8"]
        let envp = base.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        var cArgv = argv.map { strdup($0) } + [nil]
        var cEnvp = envp.map { strdup($0) } + [nil]
        defer { (cArgv + cEnvp).forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, argv[0], &actions, &attributes, &cArgv, &cEnvp)
        close(input[0])
        close(output[1])
        close(errors[1])
        guard code == 0 else {
            [input[1], output[0], errors[0]].forEach { close($0) }
            return .failure(.init(description: "cannot start \(executable): \(String(cString: strerror(code)))"))
        }
        return .success(AgentProcess(pid: pid, stdin: input[1], stdout: output[0], stderr: errors[0]))
    }
}
