/// An aggregate over a set of samples (SPEC §2 `aggregated`; the manager adds the percentiles).
///
/// avg/max over the samples that carry the metric; `totalDisk*` = last − first cumulative value;
/// `sampleCount` = samples aggregated.
public struct AggregatedMetrics: Sendable, Hashable, Codable {
    public var avgCPUUsage: Double
    public var maxCPUUsage: Double
    /// Bytes.
    public var avgMemoryUsage: Double
    /// Bytes.
    public var maxMemoryUsage: Int64
    /// Bytes read between the first and the last sample.
    public var totalDiskRead: Int64
    /// Bytes written between the first and the last sample.
    public var totalDiskWrite: Int64
    public var sampleCount: Int64
    /// Median CPU% (manager only).
    public var p50CPUUsage: Double?
    /// 95th percentile of CPU% (manager only).
    public var p95CPUUsage: Double?
    /// 95th percentile of memory bytes (manager only).
    public var p95MemoryUsage: Double?

    public init(
        avgCPUUsage: Double = 0,
        maxCPUUsage: Double = 0,
        avgMemoryUsage: Double = 0,
        maxMemoryUsage: Int64 = 0,
        totalDiskRead: Int64 = 0,
        totalDiskWrite: Int64 = 0,
        sampleCount: Int64 = 0,
        p50CPUUsage: Double? = nil,
        p95CPUUsage: Double? = nil,
        p95MemoryUsage: Double? = nil
    ) {
        self.avgCPUUsage = avgCPUUsage
        self.maxCPUUsage = maxCPUUsage
        self.avgMemoryUsage = avgMemoryUsage
        self.maxMemoryUsage = maxMemoryUsage
        self.totalDiskRead = totalDiskRead
        self.totalDiskWrite = totalDiskWrite
        self.sampleCount = sampleCount
        self.p50CPUUsage = p50CPUUsage
        self.p95CPUUsage = p95CPUUsage
        self.p95MemoryUsage = p95MemoryUsage
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case avgCPUUsage = "avg_cpu_usage"
        case maxCPUUsage = "max_cpu_usage"
        case avgMemoryUsage = "avg_memory_usage"
        case maxMemoryUsage = "max_memory_usage"
        case totalDiskRead = "total_disk_read"
        case totalDiskWrite = "total_disk_write"
        case sampleCount = "sample_count"
        case p50CPUUsage = "p50_cpu_usage"
        case p95CPUUsage = "p95_cpu_usage"
        case p95MemoryUsage = "p95_memory_usage"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func number(_ key: CodingKeys) throws -> Double {
            guard let value = try container.decodeNonNegativeNumberIfPresent(key) else {
                throw ContractError.missingField(field: "aggregated.\(key.rawValue)")
            }
            return value
        }
        avgCPUUsage = try number(.avgCPUUsage)
        maxCPUUsage = try number(.maxCPUUsage)
        avgMemoryUsage = try number(.avgMemoryUsage)
        maxMemoryUsage = try container.decodeNonNegative(.maxMemoryUsage)
        totalDiskRead = try container.decodeNonNegative(.totalDiskRead)
        totalDiskWrite = try container.decodeNonNegative(.totalDiskWrite)
        sampleCount = try container.decodeNonNegative(.sampleCount)
        p50CPUUsage = try container.decodeNonNegativeNumberIfPresent(.p50CPUUsage)
        p95CPUUsage = try container.decodeNonNegativeNumberIfPresent(.p95CPUUsage)
        p95MemoryUsage = try container.decodeNonNegativeNumberIfPresent(.p95MemoryUsage)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(avgCPUUsage.finiteForJSON, forKey: .avgCPUUsage)
        try container.encode(maxCPUUsage.finiteForJSON, forKey: .maxCPUUsage)
        try container.encode(avgMemoryUsage.finiteForJSON, forKey: .avgMemoryUsage)
        try container.encode(maxMemoryUsage, forKey: .maxMemoryUsage)
        try container.encode(totalDiskRead, forKey: .totalDiskRead)
        try container.encode(totalDiskWrite, forKey: .totalDiskWrite)
        try container.encode(sampleCount, forKey: .sampleCount)
        try container.encodeIfPresent(p50CPUUsage?.finiteForJSON, forKey: .p50CPUUsage)
        try container.encodeIfPresent(p95CPUUsage?.finiteForJSON, forKey: .p95CPUUsage)
        try container.encodeIfPresent(p95MemoryUsage?.finiteForJSON, forKey: .p95MemoryUsage)
    }
}

extension Double {
    /// The value JSON can carry: infinities become the largest finite magnitude and NaN becomes 0, so
    /// an extreme stored value can never make a response fail to encode.
    public var finiteForJSON: Double {
        if isFinite { return self }
        if isNaN { return 0 }
        return self > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude
    }
}
