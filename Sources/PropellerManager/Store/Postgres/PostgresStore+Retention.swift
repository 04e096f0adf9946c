import PostgresNIO
import PropellerCore

extension PostgresStore {
    /// Drops samples beyond the per-series cap (oldest first) and samples older than the maximum age.
    ///
    /// One grouped scan finds the series to trim; the deletes then walk only those series' primary-key
    /// slices, in transactions of at most 100 series so ingestion never waits long. Several managers
    /// may run this at once: the deletes are idempotent, and each cap is recomputed inside its
    /// transaction.
    @discardableResult
    public func applyRetention(_ policy: RetentionPolicy, now: Timestamp) async throws -> Int {
        let cap = Int64(max(policy.maxSamplesPerSeries, 0))
        let cutoff = RetentionCutoff.microseconds(now: now, maxAgeSeconds: policy.maxAgeSeconds)
        var removed = 0
        for (table, key) in [("task_samples", "task_id"), ("proplet_samples", "proplet_id")] {
            let series = try await read("find series to trim") { connection in
                var bindings = PostgresBindings(capacity: 2)
                bindings.append(cap)
                bindings.append(cutoff ?? .min)
                let rows = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT \(key) FROM \(table) GROUP BY \(key)
                            HAVING count(*) > $1 OR min(timestamp_us) < $2
                            """,
                        binds: bindings
                    ),
                    logger: self.logger
                )
                var ids: [String] = []
                for try await id in rows.decode(String.self) { ids.append(id) }
                return ids
            }
            var start = 0
            while start < series.count {
                let chunk = Array(series[start..<min(start + 100, series.count)])
                start += chunk.count
                removed += try await write("apply retention") { connection in
                    try await self.trim(connection, table: table, key: key, ids: chunk, cap: cap, cutoff: cutoff)
                }
            }
        }
        return removed
    }

    private func trim(
        _ connection: PostgresConnection,
        table: String,
        key: String,
        ids: [String],
        cap: Int64,
        cutoff: Int64?
    ) async throws -> Int {
        var removed = 0
        for id in ids {
            if let cutoff {
                removed += try await Self.rowCount(
                    connection.query(
                        PostgresQuery(
                            unsafeSQL: "DELETE FROM \(table) WHERE \(key) = $1 AND timestamp_us < $2 RETURNING 1",
                            binds: Self.bindings(id, cutoff)
                        ),
                        logger: logger
                    )
                )
            }
            // The newest `cap` samples stay; the (cap+1)-th newest and everything before it go.
            removed += try await Self.rowCount(
                connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            DELETE FROM \(table) WHERE \(key) = $1 AND timestamp_us <= (
                                SELECT timestamp_us FROM \(table) WHERE \(key) = $1
                                ORDER BY timestamp_us DESC LIMIT 1 OFFSET $2
                            ) RETURNING 1
                            """,
                        binds: Self.bindings(id, cap)
                    ),
                    logger: logger
                )
            )
        }
        return removed
    }

    private static func bindings(_ id: String, _ value: Int64) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(id)
        bindings.append(value)
        return bindings
    }
}

extension PostgresStore {
    /// `VACUUM ANALYZE` of the sample tables: what autovacuum does in a running deployment (sets the
    /// visibility map that index-only aggregate scans need, refreshes planner statistics). For
    /// benchmarks that query right after a bulk fill.
    package func vacuumSamples() async throws {
        try await read("vacuum samples") { connection in
            try await connection.query("VACUUM ANALYZE task_samples", logger: self.logger)
            try await connection.query("VACUUM ANALYZE proplet_samples", logger: self.logger)
            return ()
        }
    }
}
