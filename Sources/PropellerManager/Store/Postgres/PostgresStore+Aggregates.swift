import PostgresNIO
import PropellerCore
import PropellerMonitoring

extension PostgresStore {
    /// Aggregates every stored sample of the task in the range in one SQL statement (one snapshot).
    ///
    /// The same definitions as `SampleStatistics`: avg/max over the samples carrying the metric
    /// (NULLs are skipped by the aggregates), `percentile_disc(p)` — the first value whose rank reaches
    /// ⌈p·n⌉, i.e. the nearest-rank percentile — and disk totals as last − first cumulative value by
    /// timestamp among the samples carrying it (never negative). Each part walks only the task's slice
    /// of the (task_id, timestamp_us) primary key.
    public func taskAggregate(taskID: String, range: TimeRange) async throws -> AggregatedMetrics? {
        let (from, to) = PostgresSeriesQuery.bounds(range)
        let logger = self.logger
        return try await read("aggregate task samples") { connection in
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(taskID)
            bindings.append(from)
            bindings.append(to)
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: Self.aggregateSQL, binds: bindings),
                logger: logger
            )
            var aggregate: AggregatedMetrics?
            for try await row in rows {
                let row = row.makeRandomAccess()
                let count = try row["sample_count"].decode(Int64.self)
                guard count > 0 else { continue }
                aggregate = AggregatedMetrics(
                    avgCPUUsage: try row["avg_cpu"].decode(Double?.self) ?? 0,
                    maxCPUUsage: try row["max_cpu"].decode(Double?.self) ?? 0,
                    avgMemoryUsage: try row["avg_memory"].decode(Double?.self) ?? 0,
                    maxMemoryUsage: try row["max_memory"].decode(Int64?.self) ?? 0,
                    totalDiskRead: SampleStatistics.growth(
                        from: try row["first_read"].decode(Int64?.self),
                        to: try row["last_read"].decode(Int64?.self)
                    ),
                    totalDiskWrite: SampleStatistics.growth(
                        from: try row["first_write"].decode(Int64?.self),
                        to: try row["last_write"].decode(Int64?.self)
                    ),
                    sampleCount: count,
                    p50CPUUsage: try row["p50_cpu"].decode(Double?.self),
                    p95CPUUsage: try row["p95_cpu"].decode(Double?.self),
                    p95MemoryUsage: try row["p95_memory"].decode(Int64?.self).map(Double.init)
                )
            }
            return aggregate
        }
    }

    /// The aggregate statement ($1 task id, $2…$3 inclusive range in µs). The first/last disk counters
    /// are index walks from either end of the range.
    private static let aggregateSQL: String = {
        let filter = "task_id = $1 AND timestamp_us BETWEEN $2 AND $3"
        func edge(_ column: String, _ direction: String) -> String {
            "(SELECT \(column) FROM task_samples WHERE \(filter) AND \(column) IS NOT NULL "
                + "ORDER BY timestamp_us \(direction) LIMIT 1)"
        }
        return """
            SELECT
                count(*) AS sample_count,
                avg(cpu_percent) AS avg_cpu,
                max(cpu_percent) AS max_cpu,
                avg(memory_bytes)::double precision AS avg_memory,
                max(memory_bytes) AS max_memory,
                percentile_disc(0.5) WITHIN GROUP (ORDER BY cpu_percent) AS p50_cpu,
                percentile_disc(0.95) WITHIN GROUP (ORDER BY cpu_percent) AS p95_cpu,
                percentile_disc(0.95) WITHIN GROUP (ORDER BY memory_bytes) AS p95_memory,
                \(edge("disk_read_bytes", "ASC")) AS first_read,
                \(edge("disk_read_bytes", "DESC")) AS last_read,
                \(edge("disk_write_bytes", "ASC")) AS first_write,
                \(edge("disk_write_bytes", "DESC")) AS last_write
            FROM task_samples WHERE \(filter)
            """
    }()
}
