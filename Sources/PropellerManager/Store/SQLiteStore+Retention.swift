import GRDB
import PropellerCore

extension SQLiteStore {
    /// Drops samples beyond the per-series cap (oldest first) and samples older than the maximum age.
    ///
    /// Finding the series to trim is one scan in a read snapshot (WAL: ingestion keeps writing
    /// meanwhile); the deletes then walk only those series' primary-key slices, in write transactions
    /// of at most 100 series so ingestion is never blocked for long. The cap is recomputed inside
    /// the write, so samples that arrived in between are counted.
    @discardableResult
    public func applyRetention(_ policy: RetentionPolicy, now: Timestamp) async throws -> Int {
        let cap = max(policy.maxSamplesPerSeries, 0)
        let cutoff = RetentionCutoff.microseconds(now: now, maxAgeSeconds: policy.maxAgeSeconds)
        var removed = 0
        for (table, key) in [("task_samples", "task_id"), ("proplet_samples", "proplet_id")] {
            let series = try await read("find series to trim") { db in
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT \(key) FROM \(table) GROUP BY \(key)
                        HAVING COUNT(*) > :cap OR MIN(timestamp_us) < :cutoff
                        """,
                    arguments: ["cap": cap, "cutoff": cutoff ?? .min]
                )
            }
            var start = 0
            while start < series.count {
                let chunk = Array(series[start..<min(start + 100, series.count)])
                start += chunk.count
                removed += try await write("apply retention") { db in
                    try Self.trim(db, table: table, key: key, ids: chunk, cap: cap, cutoff: cutoff)
                }
            }
        }
        return removed
    }

    private static func trim(
        _ db: Database,
        table: String,
        key: String,
        ids: [String],
        cap: Int,
        cutoff: Int64?
    ) throws -> Int {
        let deleteOlder = try db.cachedStatement(sql: "DELETE FROM \(table) WHERE \(key) = ? AND timestamp_us < ?")
        let deleteUpTo = try db.cachedStatement(sql: "DELETE FROM \(table) WHERE \(key) = ? AND timestamp_us <= ?")
        let firstBeyondCap = try db.cachedStatement(
            sql: "SELECT timestamp_us FROM \(table) WHERE \(key) = ? ORDER BY timestamp_us DESC LIMIT 1 OFFSET ?"
        )
        var removed = 0
        for id in ids {
            if let cutoff {
                try deleteOlder.execute(arguments: [id, cutoff])
                removed += db.changesCount
            }
            // The newest `cap` samples stay; the (cap+1)-th newest and everything before it go.
            if let boundary = try Int64.fetchOne(firstBeyondCap, arguments: [id, cap]) {
                try deleteUpTo.execute(arguments: [id, boundary])
                removed += db.changesCount
            }
        }
        return removed
    }
}

/// The age limit of a retention policy as a timestamp.
enum RetentionCutoff {
    /// Microseconds before which samples are too old, or nil when age is unlimited (or the limit reaches
    /// past the start of the time line).
    static func microseconds(now: Timestamp, maxAgeSeconds: Int?) -> Int64? {
        guard let maxAgeSeconds else { return nil }
        let (age, ageOverflow) = Int64(max(maxAgeSeconds, 0)).multipliedReportingOverflow(by: 1_000_000)
        guard !ageOverflow else { return nil }
        let (cutoff, overflow) = now.microsecondsSinceEpoch.subtractingReportingOverflow(age)
        return overflow ? nil : cutoff
    }
}
