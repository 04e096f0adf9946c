/// One reading of one OS process (SPEC §2, "Task-level sample").
///
/// A metric the profile does not collect is nil and is omitted from the JSON (never sent as 0).
public struct ProcessMetrics: Sendable, Hashable, Codable {
    /// CPU time since the previous sample over wall time, ×100 (100 = one full core; may exceed 100).
    public var cpuPercent: Double?
    /// Resident set size in bytes.
    public var memoryBytes: Int64?
    /// `memoryBytes` / MemTotal × 100.
    public var memoryPercent: Double?
    /// Cumulative storage bytes read since the process started.
    public var diskReadBytes: Int64?
    /// Cumulative storage bytes written since the process started.
    public var diskWriteBytes: Int64?
    /// Whole seconds since the process started.
    public var uptimeSeconds: Int64?
    /// OS threads of the process.
    public var threadCount: Int64?
    /// Open file descriptors of the process.
    public var fileDescriptorCount: Int64?

    public init(
        cpuPercent: Double? = nil,
        memoryBytes: Int64? = nil,
        memoryPercent: Double? = nil,
        diskReadBytes: Int64? = nil,
        diskWriteBytes: Int64? = nil,
        uptimeSeconds: Int64? = nil,
        threadCount: Int64? = nil,
        fileDescriptorCount: Int64? = nil
    ) {
        self.cpuPercent = cpuPercent
        self.memoryBytes = memoryBytes
        self.memoryPercent = memoryPercent
        self.diskReadBytes = diskReadBytes
        self.diskWriteBytes = diskWriteBytes
        self.uptimeSeconds = uptimeSeconds
        self.threadCount = threadCount
        self.fileDescriptorCount = fileDescriptorCount
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case cpuPercent = "cpu_percent"
        case memoryBytes = "memory_bytes"
        case memoryPercent = "memory_percent"
        case diskReadBytes = "disk_read_bytes"
        case diskWriteBytes = "disk_write_bytes"
        case uptimeSeconds = "uptime_seconds"
        case threadCount = "thread_count"
        case fileDescriptorCount = "file_descriptor_count"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cpuPercent = try container.decodeNonNegativeNumberIfPresent(.cpuPercent)
        memoryBytes = try container.decodeNonNegativeIfPresent(.memoryBytes)
        memoryPercent = try container.decodeNonNegativeNumberIfPresent(.memoryPercent)
        diskReadBytes = try container.decodeNonNegativeIfPresent(.diskReadBytes)
        diskWriteBytes = try container.decodeNonNegativeIfPresent(.diskWriteBytes)
        uptimeSeconds = try container.decodeNonNegativeIfPresent(.uptimeSeconds)
        threadCount = try container.decodeNonNegativeIfPresent(.threadCount)
        fileDescriptorCount = try container.decodeNonNegativeIfPresent(.fileDescriptorCount)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(cpuPercent?.finiteForJSON, forKey: .cpuPercent)
        try container.encodeIfPresent(memoryBytes, forKey: .memoryBytes)
        try container.encodeIfPresent(memoryPercent?.finiteForJSON, forKey: .memoryPercent)
        try container.encodeIfPresent(diskReadBytes, forKey: .diskReadBytes)
        try container.encodeIfPresent(diskWriteBytes, forKey: .diskWriteBytes)
        try container.encodeIfPresent(uptimeSeconds, forKey: .uptimeSeconds)
        try container.encodeIfPresent(threadCount, forKey: .threadCount)
        try container.encodeIfPresent(fileDescriptorCount, forKey: .fileDescriptorCount)
    }

    /// This reading with the metrics a profile does not collect removed.
    public func filtered(by profile: MonitoringProfile) -> ProcessMetrics {
        var result = self
        if !profile.collectCPU { result.cpuPercent = nil }
        if !profile.collectMemory {
            result.memoryBytes = nil
            result.memoryPercent = nil
        }
        if !profile.collectDiskIO {
            result.diskReadBytes = nil
            result.diskWriteBytes = nil
        }
        if !profile.collectThreads { result.threadCount = nil }
        if !profile.collectFileDescriptors { result.fileDescriptorCount = nil }
        return result
    }
}
