/// What a proplet says about its host when it registers.
public struct PropletMetadata: Sendable, Hashable, Codable {
    public var hostname: String
    public var os: String
    public var arch: String
    public var cpuCount: Int
    public var totalMemoryBytes: Int64
    public var version: String
    public var wasmRuntime: String

    public init(
        hostname: String,
        os: String,
        arch: String,
        cpuCount: Int,
        totalMemoryBytes: Int64,
        version: String,
        wasmRuntime: String
    ) {
        self.hostname = hostname
        self.os = os
        self.arch = arch
        self.cpuCount = cpuCount
        self.totalMemoryBytes = totalMemoryBytes
        self.version = version
        self.wasmRuntime = wasmRuntime
    }

    enum CodingKeys: String, CodingKey {
        case hostname, os, arch
        case cpuCount = "cpu_count"
        case totalMemoryBytes = "total_memory_bytes"
        case version
        case wasmRuntime = "wasm_runtime"
    }
}

/// Registration: `control/proplet/{proplet_id}/create`.
public struct PropletRegistration: Sendable, Hashable, Codable {
    public var propletID: String
    public var name: String
    public var metadata: PropletMetadata
    /// Where the proplet's journal stands (an addition to SPEC §2, see `DeliveryCursor`); nil from
    /// proplets that do not say.
    public var delivery: DeliveryCursor?

    public init(propletID: String, name: String, metadata: PropletMetadata, delivery: DeliveryCursor? = nil) {
        self.propletID = propletID
        self.name = name
        self.metadata = metadata
        self.delivery = delivery
    }

    enum CodingKeys: String, CodingKey {
        case propletID = "proplet_id"
        case name, metadata, delivery
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        propletID = try container.decodeIdentifier(.propletID)
        name = try container.decode(String.self, forKey: .name)
        metadata = try container.decode(PropletMetadata.self, forKey: .metadata)
        delivery = try container.decodeIfPresent(DeliveryCursor.self, forKey: .delivery)
    }
}

/// Heartbeat and last will: `control/proplet/{proplet_id}/alive`.
public struct PropletHeartbeat: Sendable, Hashable, Codable {
    /// `alive` in heartbeats, `offline` in the last will.
    public enum Status: String, Sendable, Hashable, Codable {
        case alive, offline
    }

    public var propletID: String
    public var status: Status
    public var runningTasks: Int
    /// The ids of the tasks it runs now (the manager reconciles its records with them, SPEC §4); nil
    /// when the sender does not list them (then nothing is reconciled).
    public var taskIDs: [String]?
    public var timestamp: Timestamp
    /// Where the proplet's journal stands (an addition to SPEC §2, see `DeliveryCursor`).
    public var delivery: DeliveryCursor?

    public init(
        propletID: String,
        status: Status,
        runningTasks: Int,
        taskIDs: [String]? = nil,
        timestamp: Timestamp,
        delivery: DeliveryCursor? = nil
    ) {
        self.propletID = propletID
        self.status = status
        self.runningTasks = runningTasks
        self.taskIDs = taskIDs
        self.timestamp = timestamp
        self.delivery = delivery
    }

    enum CodingKeys: String, CodingKey {
        case propletID = "proplet_id"
        case status
        case runningTasks = "running_tasks"
        case taskIDs = "task_ids"
        case timestamp, delivery
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        propletID = try container.decodeIdentifier(.propletID)
        status = try container.decode(Status.self, forKey: .status)
        runningTasks = Int(try container.decodeNonNegativeIfPresent(.runningTasks) ?? 0)
        if let ids = try container.decodeIfPresent([String].self, forKey: .taskIDs) {
            for id in ids { try Identifier.validate(id, field: "task_ids") }
            taskIDs = ids
        }
        timestamp = try container.decodeIfPresent(Timestamp.self, forKey: .timestamp) ?? .now()
        delivery = try container.decodeIfPresent(DeliveryCursor.self, forKey: .delivery)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(propletID, forKey: .propletID)
        try container.encode(status, forKey: .status)
        try container.encode(runningTasks, forKey: .runningTasks)
        try container.encodeIfPresent(taskIDs, forKey: .taskIDs)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encodeIfPresent(delivery, forKey: .delivery)
    }
}

/// Host-wide figures in a proplet-level sample.
public struct HostMetrics: Sendable, Hashable, Codable {
    /// Host CPU use since the previous reading, 0…100 (all cores together).
    public var cpuPercent: Double
    public var memoryTotalBytes: Int64
    /// MemTotal − MemAvailable.
    public var memoryUsedBytes: Int64
    /// One-minute load average.
    public var load1m: Double

    public init(cpuPercent: Double, memoryTotalBytes: Int64, memoryUsedBytes: Int64, load1m: Double) {
        self.cpuPercent = cpuPercent
        self.memoryTotalBytes = memoryTotalBytes
        self.memoryUsedBytes = memoryUsedBytes
        self.load1m = load1m
    }

    enum CodingKeys: String, CodingKey {
        case cpuPercent = "cpu_percent"
        case memoryTotalBytes = "memory_total_bytes"
        case memoryUsedBytes = "memory_used_bytes"
        case load1m = "load_1m"
    }
}

/// A proplet-level sample: `control/proplet/metrics`.
public struct PropletSample: Sendable, Hashable, Codable {
    public var propletID: String
    public var timestamp: Timestamp
    /// The proplet process itself.
    public var metrics: ProcessMetrics
    public var host: HostMetrics
    public var runningTasks: Int
    /// The proplet's delivery sequence number (SPEC §2 "Delivery").
    public var seq: UInt64?

    public init(
        propletID: String,
        timestamp: Timestamp,
        metrics: ProcessMetrics,
        host: HostMetrics,
        runningTasks: Int,
        seq: UInt64? = nil
    ) {
        self.propletID = propletID
        self.timestamp = timestamp
        self.metrics = metrics
        self.host = host
        self.runningTasks = runningTasks
        self.seq = seq
    }

    enum CodingKeys: String, CodingKey {
        case propletID = "proplet_id"
        case timestamp, metrics, host, seq
        case runningTasks = "running_tasks"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        propletID = try container.decodeIdentifier(.propletID)
        timestamp = try container.decode(Timestamp.self, forKey: .timestamp)
        metrics = try container.decode(ProcessMetrics.self, forKey: .metrics)
        host = try container.decode(HostMetrics.self, forKey: .host)
        runningTasks = Int(try container.decodeNonNegativeIfPresent(.runningTasks) ?? 0)
        seq = try container.decodeSequenceNumberIfPresent(.seq)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(propletID, forKey: .propletID)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encode(metrics, forKey: .metrics)
        try container.encode(host, forKey: .host)
        try container.encode(runningTasks, forKey: .runningTasks)
        try container.encodeIfPresent(seq, forKey: .seq)
    }
}
