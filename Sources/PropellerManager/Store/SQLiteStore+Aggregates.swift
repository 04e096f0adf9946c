import GRDB
import PropellerCore
import PropellerMonitoring

extension SQLiteStore {
    /// Aggregates every stored sample of the task in the range, in SQL, in one read snapshot.
    ///
    /// Each query walks only the task's slice of the (task_id, timestamp_us) primary key: COUNT/AVG/MAX
    /// in one pass, the first and last disk counters by key order, and one `ORDER BY` fetch per
    /// percentile column (cpu, memory) from which the nearest-rank values are picked
    /// (`SampleStatistics`). Cost grows linearly with the samples in the range (≈ 0.6 ms for 1,000).
    public func taskAggregate(taskID: String, range: TimeRange) async throws -> AggregatedMetrics? {
        let (from, to) = SeriesQuery.bounds(range)
        let arguments: StatementArguments = ["id": taskID, "from": from, "to": to]
        return try await read("aggregate task samples") { db in
            let filter = "task_id = :id AND timestamp_us BETWEEN :from AND :to"
            guard
                let summary = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT COUNT(*) AS sample_count, COUNT(cpu_percent) AS cpu_count,
                                AVG(cpu_percent) AS avg_cpu, MAX(cpu_percent) AS max_cpu,
                                COUNT(memory_bytes) AS memory_count, AVG(memory_bytes) AS avg_memory,
                                MAX(memory_bytes) AS max_memory
                            FROM task_samples WHERE \(filter)
                            """
                    ),
                    arguments: arguments
                )
            else { return nil }
            let columns = try ColumnIndexes(summary, table: "task_samples")
            let count: Int = try summary.decode(atIndex: columns["sample_count"])
            guard count > 0 else { return nil }
            let cpuCount: Int = try summary.decode(atIndex: columns["cpu_count"])
            let memoryCount: Int = try summary.decode(atIndex: columns["memory_count"])

            // One sorted fetch per column serves every percentile of it (nearest rank, see SampleStatistics).
            func sorted(_ column: String) throws -> [Double] {
                let statement = try db.cachedStatement(
                    sql: """
                        SELECT \(column) FROM task_samples WHERE \(filter) AND \(column) IS NOT NULL
                        ORDER BY \(column)
                        """
                )
                return try Double.fetchAll(statement, arguments: arguments)
            }
            let cpu = cpuCount > 0 ? try sorted("cpu_percent") : []
            let memory = memoryCount > 0 ? try sorted("memory_bytes") : []

            let disk = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT
                            (SELECT disk_read_bytes FROM task_samples WHERE \(filter) AND disk_read_bytes IS NOT NULL
                                ORDER BY timestamp_us ASC LIMIT 1) AS first_read,
                            (SELECT disk_read_bytes FROM task_samples WHERE \(filter) AND disk_read_bytes IS NOT NULL
                                ORDER BY timestamp_us DESC LIMIT 1) AS last_read,
                            (SELECT disk_write_bytes FROM task_samples WHERE \(filter) AND disk_write_bytes IS NOT NULL
                                ORDER BY timestamp_us ASC LIMIT 1) AS first_write,
                            (SELECT disk_write_bytes FROM task_samples WHERE \(filter) AND disk_write_bytes IS NOT NULL
                                ORDER BY timestamp_us DESC LIMIT 1) AS last_write
                        """
                ),
                arguments: arguments
            )
            func total(_ first: String, _ last: String) throws -> Int64 {
                guard let disk else { return 0 }
                let diskColumns = try ColumnIndexes(disk, table: "task_samples")
                return SampleStatistics.growth(
                    from: try disk.decode(Int64?.self, atIndex: diskColumns[first]),
                    to: try disk.decode(Int64?.self, atIndex: diskColumns[last])
                )
            }

            return AggregatedMetrics(
                avgCPUUsage: try summary.decode(Double?.self, atIndex: columns["avg_cpu"]) ?? 0,
                maxCPUUsage: try summary.decode(Double?.self, atIndex: columns["max_cpu"]) ?? 0,
                avgMemoryUsage: try summary.decode(Double?.self, atIndex: columns["avg_memory"]) ?? 0,
                maxMemoryUsage: try summary.decode(Int64?.self, atIndex: columns["max_memory"]) ?? 0,
                totalDiskRead: try total("first_read", "last_read"),
                totalDiskWrite: try total("first_write", "last_write"),
                sampleCount: Int64(count),
                p50CPUUsage: SampleStatistics.percentile(50, ofSorted: cpu),
                p95CPUUsage: SampleStatistics.percentile(95, ofSorted: cpu),
                p95MemoryUsage: SampleStatistics.percentile(95, ofSorted: memory)
            )
        }
    }
}
