// Where the engine's lines go: a swift-log Logger (label "pincer"), replaceable
// while threads write (Engine.setLog).

import Logging
import Synchronization

final class LogSink: Sendable {
    private let logger = Mutex(Logger(label: "pincer"))

    func set(_ newLogger: Logger) { logger.withLock { $0 = newLogger } }

    func write(_ line: String, level: Logger.Level, metadata: Logger.Metadata = [:]) {
        logger.withLock { $0 }.log(level: level, "\(line)", metadata: metadata)
    }
}
