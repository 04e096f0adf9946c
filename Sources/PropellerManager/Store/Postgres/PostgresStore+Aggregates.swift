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
    /// of the covering (task_id, timestamp_us) index.
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
            for try await row in rows { aggregate = try Self.aggregate(from: row.makeRandomAccess()) }
            return aggregate
        }
    }

    /// A page of the task's samples and the aggregate over all of them, from **one** statement: one
    /// round trip and one lease instead of two, one snapshot, and the page's total is the aggregate's
    /// count (no second count over the task's index range). Every page row carries the aggregate; an
    /// empty page is one row of aggregate columns with NULL sample columns.
    public func taskMetrics(
        taskID: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page
    ) async throws -> (samples: PageResult<TaskSample>, aggregate: AggregatedMetrics?) {
        let (from, to) = PostgresSeriesQuery.bounds(range)
        let (limit, offset) = PostgresSeriesQuery.bounds(page)
        let sql = order == .ascending ? Self.metricsAscendingSQL : Self.metricsDescendingSQL
        let logger = self.logger
        return try await read("read task metrics") { connection in
            var bindings = PostgresBindings(capacity: 5)
            bindings.append(taskID)
            bindings.append(from)
            bindings.append(to)
            bindings.append(limit)
            bindings.append(offset)
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            var aggregate: AggregatedMetrics?
            var items: [TaskSample] = []
            var first = true
            for try await row in rows {
                let row = row.makeRandomAccess()
                if first {
                    aggregate = try Self.aggregate(from: row)
                    first = false
                }
                // task_id is NOT NULL in the table: NULL here is the empty page's row.
                if try row["task_id"].decode(String?.self) != nil {
                    items.append(try PostgresRowCoding.taskSample(from: row))
                }
            }
            return (PageResult(items: items, total: Int(aggregate?.sampleCount ?? 0)), aggregate)
        }
    }

    /// The aggregate of a row with `aggregateSQL`'s columns; nil when no sample is in the range.
    private static func aggregate(from row: PostgresRandomAccessRow) throws -> AggregatedMetrics? {
        let count = try row["sample_count"].decode(Int64.self)
        guard count > 0 else { return nil }
        return AggregatedMetrics(
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

    private static let filter = "task_id = $1 AND timestamp_us BETWEEN $2 AND $3"

    /// The aggregate statement ($1 task id, $2…$3 inclusive range in µs). The first/last disk counters
    /// are index walks from either end of the range.
    private static let aggregateSQL: String = {
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

    /// Page + aggregate ($4 limit, $5 offset): the one-row aggregate joined with the page, so a page
    /// costs one walk of the covering index (aggregate and total) plus the page's rows by primary key.
    private static func metricsSQL(_ direction: String) -> String {
        let columns = PostgresRowCoding.taskSampleColumns
        return """
            WITH aggregate AS (\(aggregateSQL))
            SELECT aggregate.*, page.* FROM aggregate LEFT JOIN LATERAL (
                SELECT \(columns.joined(separator: ", ")) FROM task_samples WHERE \(filter)
                ORDER BY timestamp_us \(direction) LIMIT $4 OFFSET $5
            ) AS page ON true
            ORDER BY page.timestamp_us \(direction)
            """
    }

    private static let metricsAscendingSQL = metricsSQL("ASC")
    private static let metricsDescendingSQL = metricsSQL("DESC")
}
