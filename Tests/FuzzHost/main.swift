// pincer-fuzz-host: the host the libFuzzer harness (Tests/Fuzz/fuzz_plugin.c) runs in. A
// real PluginHost loads the plugins of a directory through the real loader (dlopen, the
// entry and version checks, init with a host table of its own), starts them, and hands
// the fuzz plugin libFuzzer's arguments and the handles it cannot get itself:
//   fx-fuzz-bare   a peer loaded with no capability
//   fx-fuzz-dead   a peer that spawned a session and was then stopped (its handle is stale)
// plus session keys and run ids of other principals (the operator's, the dead peer's).
// libFuzzer then calls the plugin's LLVMFuzzerTestOneInput from this process's main thread.
//
// libFuzzer ends the process with exit() when it is done (or _exit() on a finding). An
// atexit handler registered here shuts the host down through host.h's phases first — every
// run ended, every plugin stopped, every registration released — so that LeakSanitizer's own
// exit-time check, registered earlier by the preloaded ASan runtime and so run after this
// one, sees the host after an orderly shutdown. scripts/fuzz runs it under ASan.
//
// Usage: pincer-fuzz-host --plugins DIR [-- LIBFUZZER-ARGUMENTS...]

import CPincer
import Foundation
import PincerCore
import PincerHost
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("pincer-fuzz-host: \(message)\n".utf8))
    exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
var fuzzerArguments = [CommandLine.arguments[0]]
if let dash = arguments.firstIndex(of: "--") {
    fuzzerArguments += arguments[(dash + 1)...]
    arguments = Array(arguments[..<dash])
}
guard arguments.count == 2, arguments[0] == "--plugins" else { fail("usage: pincer-fuzz-host --plugins DIR [-- LIBFUZZER-ARGUMENTS...]") }
let directory = arguments[1]

// Fast runs (the instant model, no token delay, short deadlines), guards wide enough that
// inputs reach what lies behind them, no `sleep` tool (a run must not park a worker for
// long), and few rate-limit keys, so the host's state stays small over millions of inputs.
let configText = """
{
  "plugins": { "drainTimeoutMs": 2000,
               "entries": { "fx-fuzz": { "allowModelOverride": true, "config": { "fuzz": true } } } },
  "tools": { "deny": ["sleep"] },
  "guards": { "maxConcurrentSpawns": 64, "maxSpawnsPerMinute": 65535, "maxConcurrentChildSessions": 16 },
  "hooks": { "defaultDeadlineMs": 50 },
  "engine": { "defaultModel": "local/instant", "tokenDelayMs": 0, "defaultRunTimeoutSeconds": 10, "maxTurns": 4 },
  "rateLimit": { "maxKeysPerPlugin": 64 }
}
"""
let config: OperatorConfig
do { config = try OperatorConfig.parse(configText, source: "pincer-fuzz-host") } catch { fail("\(error)") }

/// The host's own lines: counted, and the few that speak of its health kept for the summary.
final class HostLines: Sendable {
    private struct State {
        var host = 0, plugin = 0
        var notable: [String] = []
    }

    private let state = Mutex(State())
    /// A registration never released, a drain overrun, a store failure.
    static let notableParts = ["never released", "still running after", "store"]

    func host(_ line: String) {
        state.withLock { state in
            state.host += 1
            if state.notable.count < 20, Self.notableParts.contains(where: { line.contains($0) }) { state.notable.append(String(line.prefix(300))) }
        }
    }

    func plugin() { state.withLock { $0.plugin += 1 } }

    var summary: (host: Int, plugin: Int, notable: [String]) { state.withLock { ($0.host, $0.plugin, $0.notable) } }
}

let lines = HostLines()
let engine: Engine
do { engine = try config.makeEngine() } catch { fail("cannot start the engine: \(error)") }
let host = PluginHost(engine: engine, config: config, log: { _, _, _ in lines.plugin() }, hostLog: { lines.host($0) })
do { try host.loadDirectory(directory) } catch { fail("\(error)") }
for id in ["fx-fuzz", "fx-fuzz-bare", "fx-fuzz-dead"] where host.hostTable(pluginId: id) == nil {
    fail("plugin \(id) did not load from \(directory): \(host.recordsJSON)")
}
host.start()

/// Text that stays valid for the process: the plugin keeps these pointers.
func forever(_ text: String) -> UnsafePointer<CChar> { UnsafePointer(strdup(text)!) }

var foreign: [UnsafePointer<CChar>?] = []
do {
    let operatorSession = try engine.spawn(SessionSpec(message: "an operator's session"), by: .operator)
    foreign += [forever(operatorSession.sessionKey), forever(operatorSession.runId)]
} catch { fail("cannot spawn the operator's session: \(error)") }

// The dead peer spawns a session of its own, through its own table, then is stopped.
let dead = host.hostTable(pluginId: "fx-fuzz-dead")!
var request = pincer_spawn_request()
request.struct_size = UInt32(MemoryLayout<pincer_spawn_request>.size)
var spawned = pincer_spawn_result()
spawned.struct_size = UInt32(MemoryLayout<pincer_spawn_result>.size)
let spawnCode = "a session of a plugin that is stopped next".withCString { message in
    request.message = message
    return dead.pointee.spawn(dead, &request, &spawned)
}
guard spawnCode == 0 else { fail("the dead peer's spawn answered \(spawnCode)") }
withUnsafeBytes(of: &spawned.session_key) { foreign.append(forever(String(cString: $0.bindMemory(to: CChar.self).baseAddress!))) }
withUnsafeBytes(of: &spawned.run_id) { foreign.append(forever(String(cString: $0.bindMemory(to: CChar.self).baseAddress!))) }
host.stop(pluginId: "fx-fuzz-dead")

typealias Run = @convention(c) (Int32, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, UnsafePointer<pincer_host>?,
                                UnsafePointer<pincer_host>?, UnsafePointer<UnsafePointer<CChar>?>?, Int) -> Int32
guard let table = host.pluginExtension(pluginId: "fx-fuzz", "pincer.fuzz/1") else { fail("fx-fuzz offers no pincer.fuzz/1") }
let run = table.load(as: Run.self)

// What the atexit handler reaches: no closure can capture into a C function pointer.
nonisolated(unsafe) var exitingHost: PluginHost? = host
nonisolated(unsafe) var exitingLines: HostLines? = lines

func statusKiB(_ field: String) -> Int {
    let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? -1
    }
    return -1
}

atexit {
    guard let host = exitingHost, let lines = exitingLines else { return }
    exitingHost = nil
    let started = MonotonicClock.nanoseconds()
    host.shutdown()
    let (hostLines, pluginLines, notable) = lines.summary
    let milliseconds = (MonotonicClock.nanoseconds() - started) / 1_000_000
    let notableJSON = JSON.array(notable.map { .string($0) }).description
    FileHandle.standardError.write(Data("""
    pincer-fuzz-host: shutdown \(milliseconds) ms; host lines \(hostLines); plugin lines \(pluginLines); \
    VmHWM \(statusKiB("VmHWM")) kB; notable \(notableJSON)

    """.utf8))
}

let argv = fuzzerArguments.map { strdup($0) } + [nil]
var argvCopy = argv
let status = argvCopy.withUnsafeMutableBufferPointer { argvBuffer in
    foreign.withUnsafeBufferPointer { foreignBuffer in
        run(Int32(fuzzerArguments.count), argvBuffer.baseAddress, host.hostTable(pluginId: "fx-fuzz-bare"), dead,
            foreignBuffer.baseAddress, foreignBuffer.count)
    }
}
// libFuzzer returned instead of exiting (a usage error, say): its status is ours.
exit(status)
