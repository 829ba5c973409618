// Session state and owner by key bytes, for the one question plugins poll:
// "is it streaming?". Kept beside the session table so the answer needs
// neither the engine lock nor a Swift String built from the caller's C string.
// The owner is the engine's number for the caller that created the session.

import Synchronization

final class SessionStateIndex: Sendable {
    private let table = Mutex(ByteKeyedTable())

    func set(_ key: String, _ state: SessionState, owner: UInt32) {
        var key = key
        let word: UInt32 = state == .idle ? 0 : state == .streaming ? 1 : 2
        key.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            table.withLock { table in
                let hash = table.hash(bytes)
                let slot = table.find(bytes, hash: hash) ?? table.insert(bytes, hash: hash, payloadBytes: 4)
                table.setOwnerWord(word, at: slot)
                table.payload(at: slot).storeBytes(of: owner, as: UInt32.self)
            }
        }
    }

    func remove(_ key: String) {
        var key = key
        key.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            table.withLock { table in
                if let slot = table.find(bytes, hash: table.hash(bytes)) { table.remove(at: slot, payloadBytes: 4) }
            }
        }
    }

    /// The session's streaming flag and owner number, or nil for an unknown key.
    @inline(__always) func lookup(_ key: UnsafeRawBufferPointer) -> (streaming: Bool, owner: UInt32)? {
        table.withLock { table in
            table.find(key, hash: table.hash(key)).map {
                (table.ownerWord(at: $0) == 1, table.payload(at: $0).load(as: UInt32.self))
            }
        }
    }
}
