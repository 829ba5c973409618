// Where the engine's operator-facing lines go; replaceable while threads write.

import Synchronization

final class LogSink: Sendable {
    private let sink = Mutex<@Sendable (String) -> Void>({ _ in })

    func set(_ newSink: @escaping @Sendable (String) -> Void) { sink.withLock { $0 = newSink } }
    func write(_ line: String) { sink.withLock { $0 }(line) }
}
