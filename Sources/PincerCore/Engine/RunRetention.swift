// Which ended runs the engine still remembers for wait() and listings: the
// newest, within a count and a byte budget (engine config retainedRuns,
// retainedRunBytes), oldest forgotten first. What is forgotten here is deleted
// from the store too (StoreOperation.forgetRuns), so the store holds what the
// engine can read back.

struct RunRetention {
    let maxRuns: Int
    let maxBytes: Int
    /// Ended runs' ids, oldest first, from `head`.
    private var ids: [String] = []
    private var head = 0
    private var sizes: [Int] = []
    /// Bytes the remembered runs hold (messages, texts, events).
    private(set) var bytes = 0

    init(maxRuns: Int, maxBytes: Int) {
        self.maxRuns = maxRuns
        self.maxBytes = maxBytes
    }

    var count: Int { ids.count - head }

    /// The remembered runs' ids, oldest first.
    var remembered: ArraySlice<String> { ids[head...] }

    /// Remembers an ended run of `size` bytes; answers the ids now forgotten, oldest first.
    /// The newest run is always kept, whatever its size.
    mutating func remember(_ id: String, size: Int) -> [String] {
        ids.append(id)
        sizes.append(size)
        bytes += size
        var forgotten: [String] = []
        while count > maxRuns || (bytes > maxBytes && count > 1) {
            forgotten.append(ids[head])
            bytes -= sizes[head]
            head += 1
        }
        if head > 4096 {
            ids.removeFirst(head)
            sizes.removeFirst(head)
            head = 0
        }
        return forgotten
    }
}
