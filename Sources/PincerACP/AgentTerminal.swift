// A command an agent runs through the client's terminal (ACP terminal/*),
// only when the operator enabled it for that agent (acp.agents.<name>.terminal).
// It runs in the session's workspace, in a process group of its own (the same
// spawner as agents: it dies with a host killed by SIGKILL); its stdout and
// stderr are kept together, cut from the beginning (at a UTF-8 boundary) past
// the output limit; kill and release end the whole group, and so does the
// turn's end by cancel, timeout, delete or host stop.

import Foundation
import PincerCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

final class AgentTerminal: Sendable {
    let id: String
    let process: AgentProcess
    private let limit: Int
    private let state = Mutex<(output: [UInt8], truncated: Bool, readers: Int)>(([], false, 2))
    private let exited = NSCondition()

    init(id: String, command: String, arguments: [String], environment: [String: String], directory: String, outputLimit: Int) throws(ACPError) {
        self.id = id
        limit = outputLimit
        do {
            process = try AgentProcess.start(executable: command, arguments: arguments, directory: directory, environment: environment)
        } catch {
            throw ACPError(ACPError.internalError, "terminal/create: \(error.description)")
        }
        process.closeInput()
        for fd in [process.stdout, process.stderr] {
            Thread.detachNewThread { [self] in collect(fd) }
        }
    }

    /// Appends what `fd` gives to the output, keeping at most `limit` bytes (the newest).
    private func collect(_ fd: Int32) {
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            state.withLock { state in
                state.output += chunk[0..<count]
                if state.output.count > limit {
                    var cut = state.output.count - limit
                    // Cut at a UTF-8 character boundary: never start on a continuation byte.
                    while cut < state.output.count, state.output[cut] & 0xC0 == 0x80 { cut += 1 }
                    state.output.removeFirst(cut)
                    state.truncated = true
                }
            }
        }
        close(fd)
        let last = state.withLock { state -> Bool in
            state.readers -= 1
            return state.readers == 0
        }
        if last {
            process.reap(waiting: true)
            exited.lock()
            exited.broadcast()
            exited.unlock()
        }
    }

    /// terminal/output: what it wrote so far, and its exit status once it exited.
    var output: JSON {
        let (bytes, truncated, _) = state.withLock { $0 }
        var members: [(String, JSON)] = [("output", .string(String(decoding: bytes, as: UTF8.self))), ("truncated", .bool(truncated))]
        if let exit = exitStatus { members.append(("exitStatus", exit)) }
        return .object(members)
    }

    /// {"exitCode", "signal"} once it exited (both readers done and the process reaped), else nil.
    var exitStatus: JSON? {
        guard state.withLock({ $0.readers }) == 0, let status = process.exitStatus else { return nil }
        return status >= 128
            ? .object([("exitCode", .null), ("signal", .string("SIG\(status - 128)"))])
            : .object([("exitCode", JSON(Int(status))), ("signal", .null)])
    }

    /// terminal/wait_for_exit: blocks until it exits, or `stop` says to give up (the run ends).
    func waitForExit(stop: () -> Bool) throws(ACPError) -> JSON {
        exited.lock()
        defer { exited.unlock() }
        while true {
            if let status = exitStatus { return status }
            if stop() { throw ACPError(ACPError.cancelled, "terminal/wait_for_exit was given up: the run is stopping") }
            _ = exited.wait(until: Date().addingTimeInterval(0.05))
        }
    }

    /// terminal/kill and release: the command's whole group ends; its output stays readable.
    func kill() { process.terminateGroup(graceMs: 500) }
}
