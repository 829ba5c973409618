// A host for one test: an engine, a plugin host over a directory of its own,
// and every log line recorded, so a test can build fixtures, load them, run
// their cases and look at what an operator would see.

import CPincer
import Foundation
import PincerCore
@testable import PincerHost
import PincerOpenAI
import Synchronization

final class LogRecorder: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
    func contains(_ part: String) -> Bool { all.contains { $0.contains(part) } }
}

final class TestHost {
    let directory: String
    let engine: Engine
    let host: PluginHost
    let logs = LogRecorder()
    private var closed = false

    init(config: OperatorConfig = OperatorConfig(), tokenDelayMs: Int = 1) throws {
        directory = NSTemporaryDirectory() + "pincer-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = config
        config.engine.tokenDelayMs = tokenDelayMs
        engine = try config.makeEngine(network: { settings throws(EngineError) in try OpenAICompatibleProvider(settings) })
        let logs = self.logs
        host = PluginHost(engine: engine, config: config,
                          log: { id, level, message in logs.append("[\(id)] \(level.label): \(message)") },
                          hostLog: { logs.append("pincer: \($0)") })
    }

    deinit { close() }

    /// Shuts plugins down, then the engine. Safe to call twice.
    func close() {
        guard !closed else { return }
        closed = true
        host.shutdown()
        engine.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Compiles a fixture into this host's directory.
    @discardableResult
    func add(_ source: String, as name: String, flags: [String] = [], include: String = "Include") throws -> String {
        try Fixtures.build(source, flags: flags, include: include, into: directory, as: name)
    }

    /// Compiles and loads one fixture; returns its record.
    func load(_ source: String, as name: String, flags: [String] = [], include: String = "Include") throws -> PluginRecord {
        host.load(file: try add(source, as: name, flags: flags, include: include))
    }

    /// Runs a fixture's named case through its "pincer.test/1" extension.
    func run(_ pluginId: String, _ name: String) -> (passed: Bool, code: Int32, report: String) {
        guard let runner = caseRunner(pluginId) else {
            return (false, -1, "plugin \(pluginId) is not loaded or has no test extension")
        }
        let (code, report) = runner(name)
        return (code == 0, code, report)
    }

    /// A runner for the fixture's cases, fetched while the plugin is loaded; it keeps
    /// working after shutdown, so a test can run a case against a dead handle.
    func caseRunner(_ pluginId: String) -> ((String) -> (code: Int32, report: String))? {
        guard let ext = host.pluginExtension(pluginId: pluginId, "pincer.test/1") else { return nil }
        typealias RunCase = @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> Int32
        let runCase = ext.load(as: RunCase.self)
        return { name in
            var report = [CChar](repeating: 0, count: 16384)
            let code = runCase(name, &report, report.count)
            return (code, report.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
    }
}
