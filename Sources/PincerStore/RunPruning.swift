// The store keeps the runs an engine can load (its retainedRuns: the newest by
// position, what load(runLimit:) returns) and deletes older ended runs with
// their events (ON DELETE CASCADE). Without it the runs table only grew: every
// run ever made stayed on disk, though no host would read it back.
//
// It deletes a step at a time, not a few rows in every commit: the commit that
// hands out positions past a step mark deletes up to four steps' worth of the
// oldest, so the oldest pages join one commit's WAL frames in a step, not every
// commit's, and a store holding more than its bound (written before, or with a
// larger one) shrinks by a bounded amount per commit. Queued and running runs
// stay: the next open marks them interrupted, and then they go.

import GRDB
import PincerCore

struct RunPruning: Sendable {
    /// The newest runs kept.
    let keep: Int
    /// Positions handed out between deletions.
    let step: Int64

    init(keep: Int) {
        self.keep = max(1, keep)
        step = Int64(max(1, min(1024, self.keep / 8)))
    }

    /// Whether a commit that handed out the positions after `before` up to `last` crossed a step mark.
    func isDue(before: Int64, last: Int64) -> Bool { last / step != before / step }

    /// Deletes up to four steps of the oldest ended runs beyond the newest `keep`.
    func prune(_ db: Database) throws {
        try db.execute(sql: """
            DELETE FROM runs WHERE position IN (
                SELECT position FROM runs
                WHERE position <= (SELECT position FROM runs ORDER BY position DESC LIMIT 1 OFFSET ?) AND status NOT IN (?, ?)
                ORDER BY position LIMIT ?)
            """, arguments: [keep, RunStatus.queued.rawValue, RunStatus.running.rawValue, 4 * step])
    }
}
