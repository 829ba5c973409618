// Server-sent events (the text/event-stream format), parsed incrementally:
// bytes go in as they arrive, complete events come out. Only what chat
// completion streams use is kept: the `data` lines of each event, joined.

struct ServerSentEvents {
    private var buffer: [UInt8] = []
    private var data: [String] = []

    /// Feeds bytes; returns the data of every event they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [String] {
        buffer.append(contentsOf: bytes)
        var events: [String] = []
        var start = 0
        while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            var line = buffer[start..<newline]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            start = newline + 1
            if line.isEmpty {
                if !data.isEmpty { events.append(data.joined(separator: "\n")) }
                data.removeAll()
            } else if line.starts(with: Array("data:".utf8)) {
                var value = line.dropFirst(5)
                if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
                data.append(String(decoding: value, as: UTF8.self))
            }
            // Comments (":…") and other fields (event, id, retry) carry nothing chat streams need.
        }
        buffer.removeFirst(start)
        return events
    }

    /// Bytes received that do not yet end a line (a stream cut mid-event leaves some).
    var hasPartialEvent: Bool { !buffer.isEmpty || !data.isEmpty }
}
