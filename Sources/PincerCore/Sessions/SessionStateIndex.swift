// Session state by key bytes, for the one question plugins poll: "is it
// streaming?". Kept beside the session table so the answer needs neither the
// engine lock nor a Swift String built from the caller's C string.

import Synchronization

final class SessionStateIndex: @unchecked Sendable {
    private let table = Mutex(ByteKeyedTable())

    func set(_ key: String, _ state: SessionState) {
        var key = key
        let word: UInt32 = state == .idle ? 0 : state == .streaming ? 1 : 2
        key.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            table.withLock { table in
                let hash = table.hash(bytes)
                let slot = table.find(bytes, hash: hash) ?? table.insert(bytes, hash: hash, payloadBytes: 0)
                table.setOwnerWord(word, at: slot)
            }
        }
    }

    func remove(_ key: String) {
        var key = key
        key.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            table.withLock { table in
                if let slot = table.find(bytes, hash: table.hash(bytes)) { table.remove(at: slot, payloadBytes: 0) }
            }
        }
    }

    /// True when streaming, false when idle or compacting, nil for an unknown key.
    @inline(__always) func isStreaming(_ key: UnsafeRawBufferPointer) -> Bool? {
        table.withLock { table in
            table.find(key, hash: table.hash(key)).map { table.ownerWord(at: $0) == 1 }
        }
    }
}
