import GRDB
import PropellerCore

/// Converts samples to and from the typed columns of `task_samples` and `proplet_samples`.
///
/// Writes are positional (the column lists below, in argument order); reads go by column name,
/// resolved once per statement (`TaskSampleDecoder`, `PropletSampleDecoder`).
enum SampleRowCoding {
    /// The columns of `task_samples`, in argument order.
    static let taskColumns = """
        task_id, timestamp_us, proplet_id, cpu_percent, memory_bytes, memory_percent, disk_read_bytes,
        disk_write_bytes, uptime_seconds, thread_count, fd_count, agg_avg_cpu, agg_max_cpu, agg_avg_memory,
        agg_max_memory, agg_total_disk_read, agg_total_disk_write, agg_sample_count, agg_p50_cpu, agg_p95_cpu,
        agg_p95_memory
        """
    static let taskColumnCount = 21

    /// The columns of `proplet_samples`, in argument order.
    static let propletColumns = """
        proplet_id, timestamp_us, cpu_percent, memory_bytes, memory_percent, disk_read_bytes,
        disk_write_bytes, uptime_seconds, thread_count, fd_count, host_cpu_percent, host_memory_total_bytes,
        host_memory_used_bytes, host_load_1m, running_tasks
        """
    static let propletColumnCount = 15

    static func arguments(for sample: TaskSample) -> StatementArguments {
        let aggregated = sample.aggregated
        var values: [(any DatabaseValueConvertible)?] = [
            sample.taskID, sample.timestamp.microsecondsSinceEpoch, sample.propletID,
        ]
        values.reserveCapacity(taskColumnCount)
        values += metricValues(sample.metrics)
        values += [
            aggregated?.avgCPUUsage, aggregated?.maxCPUUsage, aggregated?.avgMemoryUsage,
            aggregated?.maxMemoryUsage, aggregated?.totalDiskRead, aggregated?.totalDiskWrite,
            aggregated?.sampleCount, aggregated?.p50CPUUsage, aggregated?.p95CPUUsage, aggregated?.p95MemoryUsage,
        ]
        return StatementArguments(values)
    }

    static func arguments(for sample: PropletSample) -> StatementArguments {
        var values: [(any DatabaseValueConvertible)?] = [sample.propletID, sample.timestamp.microsecondsSinceEpoch]
        values.reserveCapacity(propletColumnCount)
        values += metricValues(sample.metrics)
        values += [
            sample.host.cpuPercent, sample.host.memoryTotalBytes, sample.host.memoryUsedBytes, sample.host.load1m,
            sample.runningTasks,
        ]
        return StatementArguments(values)
    }

    private static func metricValues(_ metrics: ProcessMetrics) -> [(any DatabaseValueConvertible)?] {
        [
            metrics.cpuPercent, metrics.memoryBytes, metrics.memoryPercent, metrics.diskReadBytes,
            metrics.diskWriteBytes, metrics.uptimeSeconds, metrics.threadCount, metrics.fileDescriptorCount,
        ]
    }
}

/// Positions of the 8 process metrics in a result, by column name.
struct MetricColumns: Sendable {
    let cpu, memory, memoryPercent, diskRead, diskWrite, uptime, threads, fds: Int

    init(_ columns: ColumnIndexes) throws {
        cpu = try columns["cpu_percent"]
        memory = try columns["memory_bytes"]
        memoryPercent = try columns["memory_percent"]
        diskRead = try columns["disk_read_bytes"]
        diskWrite = try columns["disk_write_bytes"]
        uptime = try columns["uptime_seconds"]
        threads = try columns["thread_count"]
        fds = try columns["fd_count"]
    }

    func metrics(from row: Row) throws -> ProcessMetrics {
        ProcessMetrics(
            cpuPercent: try row.decode(atIndex: cpu),
            memoryBytes: try row.decode(atIndex: memory),
            memoryPercent: try row.decode(atIndex: memoryPercent),
            diskReadBytes: try row.decode(atIndex: diskRead),
            diskWriteBytes: try row.decode(atIndex: diskWrite),
            uptimeSeconds: try row.decode(atIndex: uptime),
            threadCount: try row.decode(atIndex: threads),
            fileDescriptorCount: try row.decode(atIndex: fds)
        )
    }
}

/// Decodes rows of `task_samples` by column name (names resolved once per statement).
struct TaskSampleDecoder: Sendable {
    let taskID, timestamp, propletID: Int
    let metrics: MetricColumns
    let avgCPU, maxCPU, avgMemory, maxMemory, diskRead, diskWrite, count, p50CPU, p95CPU, p95Memory: Int

    init(_ columnNames: some Sequence<String>) throws {
        let columns = ColumnIndexes(columnNames, table: "task_samples")
        taskID = try columns["task_id"]
        timestamp = try columns["timestamp_us"]
        propletID = try columns["proplet_id"]
        metrics = try MetricColumns(columns)
        avgCPU = try columns["agg_avg_cpu"]
        maxCPU = try columns["agg_max_cpu"]
        avgMemory = try columns["agg_avg_memory"]
        maxMemory = try columns["agg_max_memory"]
        diskRead = try columns["agg_total_disk_read"]
        diskWrite = try columns["agg_total_disk_write"]
        count = try columns["agg_sample_count"]
        p50CPU = try columns["agg_p50_cpu"]
        p95CPU = try columns["agg_p95_cpu"]
        p95Memory = try columns["agg_p95_memory"]
    }

    func sample(from row: Row) throws -> TaskSample {
        var aggregated: AggregatedMetrics?
        // agg_sample_count is NULL exactly when the sample carried no aggregate.
        if let sampleCount = try row.decode(Int64?.self, atIndex: count) {
            aggregated = AggregatedMetrics(
                avgCPUUsage: try row.decode(atIndex: avgCPU),
                maxCPUUsage: try row.decode(atIndex: maxCPU),
                avgMemoryUsage: try row.decode(atIndex: avgMemory),
                maxMemoryUsage: try row.decode(atIndex: maxMemory),
                totalDiskRead: try row.decode(atIndex: diskRead),
                totalDiskWrite: try row.decode(atIndex: diskWrite),
                sampleCount: sampleCount,
                p50CPUUsage: try row.decode(atIndex: p50CPU),
                p95CPUUsage: try row.decode(atIndex: p95CPU),
                p95MemoryUsage: try row.decode(atIndex: p95Memory)
            )
        }
        return TaskSample(
            taskID: try row.decode(atIndex: taskID),
            propletID: try row.decode(atIndex: propletID),
            metrics: try metrics.metrics(from: row),
            aggregated: aggregated,
            timestamp: Timestamp(microsecondsSinceEpoch: try row.decode(atIndex: timestamp))
        )
    }
}

/// Decodes rows of `proplet_samples` by column name (names resolved once per statement).
struct PropletSampleDecoder: Sendable {
    let propletID, timestamp: Int
    let metrics: MetricColumns
    let hostCPU, hostTotal, hostUsed, load, runningTasks: Int

    init(_ columnNames: some Sequence<String>) throws {
        let columns = ColumnIndexes(columnNames, table: "proplet_samples")
        propletID = try columns["proplet_id"]
        timestamp = try columns["timestamp_us"]
        metrics = try MetricColumns(columns)
        hostCPU = try columns["host_cpu_percent"]
        hostTotal = try columns["host_memory_total_bytes"]
        hostUsed = try columns["host_memory_used_bytes"]
        load = try columns["host_load_1m"]
        runningTasks = try columns["running_tasks"]
    }

    func sample(from row: Row) throws -> PropletSample {
        PropletSample(
            propletID: try row.decode(atIndex: propletID),
            timestamp: Timestamp(microsecondsSinceEpoch: try row.decode(atIndex: timestamp)),
            metrics: try metrics.metrics(from: row),
            host: HostMetrics(
                cpuPercent: try row.decode(atIndex: hostCPU),
                memoryTotalBytes: try row.decode(atIndex: hostTotal),
                memoryUsedBytes: try row.decode(atIndex: hostUsed),
                load1m: try row.decode(atIndex: load)
            ),
            runningTasks: try row.decode(atIndex: runningTasks)
        )
    }
}
