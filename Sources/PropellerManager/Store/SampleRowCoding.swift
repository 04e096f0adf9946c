import GRDB
import PropellerCore

/// Converts samples to and from the typed columns of `task_samples` and `proplet_samples`.
///
/// Columns are read by position: the SELECT lists below and these functions change together.
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

    /// A task sample from a row selected with `taskColumns`.
    static func taskSample(from row: Row) throws -> TaskSample {
        var aggregated: AggregatedMetrics?
        // agg_sample_count is NULL exactly when the sample carried no aggregate.
        if let count = try row.decode(Int64?.self, atIndex: 17) {
            aggregated = AggregatedMetrics(
                avgCPUUsage: try row.decode(atIndex: 11),
                maxCPUUsage: try row.decode(atIndex: 12),
                avgMemoryUsage: try row.decode(atIndex: 13),
                maxMemoryUsage: try row.decode(atIndex: 14),
                totalDiskRead: try row.decode(atIndex: 15),
                totalDiskWrite: try row.decode(atIndex: 16),
                sampleCount: count,
                p50CPUUsage: try row.decode(atIndex: 18),
                p95CPUUsage: try row.decode(atIndex: 19),
                p95MemoryUsage: try row.decode(atIndex: 20)
            )
        }
        return TaskSample(
            taskID: try row.decode(atIndex: 0),
            propletID: try row.decode(atIndex: 2),
            metrics: try metrics(from: row, at: 3),
            aggregated: aggregated,
            timestamp: Timestamp(microsecondsSinceEpoch: try row.decode(atIndex: 1))
        )
    }

    /// A proplet sample from a row selected with `propletColumns`.
    static func propletSample(from row: Row) throws -> PropletSample {
        PropletSample(
            propletID: try row.decode(atIndex: 0),
            timestamp: Timestamp(microsecondsSinceEpoch: try row.decode(atIndex: 1)),
            metrics: try metrics(from: row, at: 2),
            host: HostMetrics(
                cpuPercent: try row.decode(atIndex: 10),
                memoryTotalBytes: try row.decode(atIndex: 11),
                memoryUsedBytes: try row.decode(atIndex: 12),
                load1m: try row.decode(atIndex: 13)
            ),
            runningTasks: try row.decode(atIndex: 14)
        )
    }

    private static func metricValues(_ metrics: ProcessMetrics) -> [(any DatabaseValueConvertible)?] {
        [
            metrics.cpuPercent, metrics.memoryBytes, metrics.memoryPercent, metrics.diskReadBytes,
            metrics.diskWriteBytes, metrics.uptimeSeconds, metrics.threadCount, metrics.fileDescriptorCount,
        ]
    }

    /// The 8 process metrics from consecutive columns starting at `first`.
    private static func metrics(from row: Row, at first: Int) throws -> ProcessMetrics {
        ProcessMetrics(
            cpuPercent: try row.decode(atIndex: first),
            memoryBytes: try row.decode(atIndex: first + 1),
            memoryPercent: try row.decode(atIndex: first + 2),
            diskReadBytes: try row.decode(atIndex: first + 3),
            diskWriteBytes: try row.decode(atIndex: first + 4),
            uptimeSeconds: try row.decode(atIndex: first + 5),
            threadCount: try row.decode(atIndex: first + 6),
            fileDescriptorCount: try row.decode(atIndex: first + 7)
        )
    }
}
