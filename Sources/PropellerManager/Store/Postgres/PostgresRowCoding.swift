import Foundation
import PostgresNIO
import PropellerCore

/// Converts tasks, proplets and samples to PostgreSQL bindings and back, reading columns by name.
///
/// JSON columns use the same encoding as the SQLite store (`StoredInput` keeps an input's kind), so
/// both stores round-trip a task exactly.
enum PostgresRowCoding {
    // MARK: Tasks

    static let taskColumns = [
        "id", "name", "module_digest", "module_size_bytes", "image_url", "inputs_json", "env_json", "cli_args_json",
        "daemon", "profile_json",
        "state", "proplet_id", "results", "error", "exit_code", "created_at_us", "updated_at_us", "started_at_us",
        "finished_at_us", "limits_json", "labels_json",
    ]

    /// The bindings of a task row, in the order of `taskColumns`.
    static func bindings(for task: WasmTask) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: taskColumns.count)
        bindings.append(task.id)
        bindings.append(task.name)
        bindings.append(task.module?.digest)
        bindings.append(task.module?.sizeBytes.map(Int64.init))
        bindings.append(task.imageURL)
        bindings.append(try json(task.inputs.map(StoredInput.init)))
        bindings.append(try json(task.env))
        bindings.append(try json(task.cliArgs))
        bindings.append(task.daemon)
        bindings.append(try json(task.monitoringProfile))
        bindings.append(task.state.rawValue)
        bindings.append(task.propletID)
        bindings.append(task.results)
        bindings.append(task.error)
        bindings.append(task.exitCode.map(Int64.init))
        bindings.append(task.createdAt.microsecondsSinceEpoch)
        bindings.append(task.updatedAt.microsecondsSinceEpoch)
        bindings.append(task.startedAt?.microsecondsSinceEpoch)
        bindings.append(task.finishedAt?.microsecondsSinceEpoch)
        bindings.append(task.limits == .none ? nil : try json(task.limits))
        bindings.append(task.labels.isEmpty ? nil : try json(task.labels))
        return bindings
    }

    static func task(from row: PostgresRandomAccessRow) throws -> WasmTask {
        let id = try row["id"].decode(String.self)
        let stateText = try row["state"].decode(String.self)
        guard let state = TaskState(rawValue: stateText) else {
            throw StoreError.database("task \(id) has an unknown stored state \"\(stateText)\"")
        }
        let inputs: [StoredInput] = try value(row, "inputs_json", id: id)
        let limits = try row["limits_json"].decode(String?.self)
        let labels = try row["labels_json"].decode(String?.self)
        let imageURL = try row["image_url"].decode(String?.self)
        let module = TaskModule.stored(
            imageURL: imageURL,
            digest: try row["module_digest"].decode(String?.self),
            sizeBytes: try row["module_size_bytes"].decode(Int64?.self).map { Int(clamping: $0) }
        )
        var task = WasmTask(
            id: id,
            name: try row["name"].decode(String.self),
            module: module,
            imageURL: imageURL,
            inputs: inputs.map(\.input),
            env: try value(row, "env_json", id: id),
            cliArgs: try value(row, "cli_args_json", id: id),
            daemon: try row["daemon"].decode(Bool.self),
            monitoringProfile: try value(row, "profile_json", id: id),
            state: state,
            propletID: try row["proplet_id"].decode(String?.self),
            results: try row["results"].decode(String?.self),
            error: try row["error"].decode(String?.self),
            exitCode: try row["exit_code"].decode(Int64?.self).map { Int(clamping: $0) },
            createdAt: try time(row, "created_at_us"),
            updatedAt: try time(row, "updated_at_us"),
            startedAt: try optionalTime(row, "started_at_us"),
            finishedAt: try optionalTime(row, "finished_at_us")
        )
        task.limits = try limits.map { try decode(TaskLimits.self, $0, id: id) } ?? .none
        task.labels = try labels.map { try decode([String: String].self, $0, id: id) } ?? [:]
        return task
    }

    // MARK: Proplets

    static let propletColumns = ["id", "name", "alive", "last_seen_us", "running_tasks", "metadata_json"]

    static func bindings(for proplet: Proplet) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: propletColumns.count)
        bindings.append(proplet.id)
        bindings.append(proplet.name)
        bindings.append(proplet.alive)
        bindings.append(proplet.lastSeen.microsecondsSinceEpoch)
        bindings.append(Int64(proplet.runningTasks))
        bindings.append(try proplet.metadata.map(json))
        return bindings
    }

    static func proplet(from row: PostgresRandomAccessRow) throws -> Proplet {
        let id = try row["id"].decode(String.self)
        let metadata = try row["metadata_json"].decode(String?.self)
        return Proplet(
            id: id,
            name: try row["name"].decode(String.self),
            alive: try row["alive"].decode(Bool.self),
            lastSeen: try time(row, "last_seen_us"),
            runningTasks: Int(clamping: try row["running_tasks"].decode(Int64.self)),
            metadata: try metadata.map { try decode(PropletMetadata.self, $0, id: id) }
        )
    }

    // MARK: Samples

    static let metricColumns = [
        "cpu_percent", "memory_bytes", "memory_percent", "disk_read_bytes", "disk_write_bytes", "uptime_seconds",
        "thread_count", "fd_count",
    ]

    static let taskSampleColumns =
        ["task_id", "timestamp_us", "proplet_id"] + metricColumns + [
            "agg_avg_cpu", "agg_max_cpu", "agg_avg_memory", "agg_max_memory", "agg_total_disk_read",
            "agg_total_disk_write", "agg_sample_count", "agg_p50_cpu", "agg_p95_cpu", "agg_p95_memory",
        ]

    static let propletSampleColumns =
        ["proplet_id", "timestamp_us"] + metricColumns + [
            "host_cpu_percent", "host_memory_total_bytes", "host_memory_used_bytes", "host_load_1m", "running_tasks",
        ]

    /// Appends a task sample's values in the order of `taskSampleColumns`.
    @Sendable static func bind(_ sample: TaskSample, into bindings: inout PostgresColumnArrays) {
        bindings.append(sample.taskID)
        bindings.append(sample.timestamp.microsecondsSinceEpoch)
        bindings.append(sample.propletID)
        bind(sample.metrics, into: &bindings)
        let aggregated = sample.aggregated
        bindings.append(aggregated?.avgCPUUsage)
        bindings.append(aggregated?.maxCPUUsage)
        bindings.append(aggregated?.avgMemoryUsage)
        bindings.append(aggregated?.maxMemoryUsage)
        bindings.append(aggregated?.totalDiskRead)
        bindings.append(aggregated?.totalDiskWrite)
        bindings.append(aggregated?.sampleCount)
        bindings.append(aggregated?.p50CPUUsage)
        bindings.append(aggregated?.p95CPUUsage)
        bindings.append(aggregated?.p95MemoryUsage)
        bindings.endRow()
    }

    /// Appends a proplet sample's values in the order of `propletSampleColumns`.
    @Sendable static func bind(_ sample: PropletSample, into bindings: inout PostgresColumnArrays) {
        bindings.append(sample.propletID)
        bindings.append(sample.timestamp.microsecondsSinceEpoch)
        bind(sample.metrics, into: &bindings)
        bindings.append(sample.host.cpuPercent)
        bindings.append(sample.host.memoryTotalBytes)
        bindings.append(sample.host.memoryUsedBytes)
        bindings.append(sample.host.load1m)
        bindings.append(Int64(sample.runningTasks))
        bindings.endRow()
    }

    private static func bind(_ metrics: ProcessMetrics, into bindings: inout PostgresColumnArrays) {
        bindings.append(metrics.cpuPercent)
        bindings.append(metrics.memoryBytes)
        bindings.append(metrics.memoryPercent)
        bindings.append(metrics.diskReadBytes)
        bindings.append(metrics.diskWriteBytes)
        bindings.append(metrics.uptimeSeconds)
        bindings.append(metrics.threadCount)
        bindings.append(metrics.fileDescriptorCount)
    }

    static func taskSample(from row: PostgresRandomAccessRow) throws -> TaskSample {
        var aggregated: AggregatedMetrics?
        // agg_sample_count is NULL exactly when the sample carried no aggregate.
        if let count = try row["agg_sample_count"].decode(Int64?.self) {
            aggregated = AggregatedMetrics(
                avgCPUUsage: try row["agg_avg_cpu"].decode(Double.self),
                maxCPUUsage: try row["agg_max_cpu"].decode(Double.self),
                avgMemoryUsage: try row["agg_avg_memory"].decode(Double.self),
                maxMemoryUsage: try row["agg_max_memory"].decode(Int64.self),
                totalDiskRead: try row["agg_total_disk_read"].decode(Int64.self),
                totalDiskWrite: try row["agg_total_disk_write"].decode(Int64.self),
                sampleCount: count,
                p50CPUUsage: try row["agg_p50_cpu"].decode(Double?.self),
                p95CPUUsage: try row["agg_p95_cpu"].decode(Double?.self),
                p95MemoryUsage: try row["agg_p95_memory"].decode(Double?.self)
            )
        }
        return TaskSample(
            taskID: try row["task_id"].decode(String.self),
            propletID: try row["proplet_id"].decode(String.self),
            metrics: try metrics(from: row),
            aggregated: aggregated,
            timestamp: try time(row, "timestamp_us")
        )
    }

    static func propletSample(from row: PostgresRandomAccessRow) throws -> PropletSample {
        PropletSample(
            propletID: try row["proplet_id"].decode(String.self),
            timestamp: try time(row, "timestamp_us"),
            metrics: try metrics(from: row),
            host: HostMetrics(
                cpuPercent: try row["host_cpu_percent"].decode(Double.self),
                memoryTotalBytes: try row["host_memory_total_bytes"].decode(Int64.self),
                memoryUsedBytes: try row["host_memory_used_bytes"].decode(Int64.self),
                load1m: try row["host_load_1m"].decode(Double.self)
            ),
            runningTasks: Int(clamping: try row["running_tasks"].decode(Int64.self))
        )
    }

    private static func metrics(from row: PostgresRandomAccessRow) throws -> ProcessMetrics {
        ProcessMetrics(
            cpuPercent: try row["cpu_percent"].decode(Double?.self),
            memoryBytes: try row["memory_bytes"].decode(Int64?.self),
            memoryPercent: try row["memory_percent"].decode(Double?.self),
            diskReadBytes: try row["disk_read_bytes"].decode(Int64?.self),
            diskWriteBytes: try row["disk_write_bytes"].decode(Int64?.self),
            uptimeSeconds: try row["uptime_seconds"].decode(Int64?.self),
            threadCount: try row["thread_count"].decode(Int64?.self),
            fileDescriptorCount: try row["fd_count"].decode(Int64?.self)
        )
    }

    // MARK: Helpers

    private static func time(_ row: PostgresRandomAccessRow, _ column: String) throws -> Timestamp {
        Timestamp(microsecondsSinceEpoch: try row[column].decode(Int64.self))
    }

    private static func optionalTime(_ row: PostgresRandomAccessRow, _ column: String) throws -> Timestamp? {
        try row[column].decode(Int64?.self).map(Timestamp.init(microsecondsSinceEpoch:))
    }

    static func json(_ value: some Encodable) throws -> String {
        do {
            return String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        } catch {
            throw StoreError.database("cannot encode \(type(of: value)) as JSON: \(error)")
        }
    }

    private static func value<T: Decodable>(_ row: PostgresRandomAccessRow, _ column: String, id: String) throws -> T {
        try decode(T.self, try row[column].decode(String.self), id: id)
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ text: String, id: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError.database("stored JSON of \(id) is not a valid \(type): \(error)")
        }
    }
}
