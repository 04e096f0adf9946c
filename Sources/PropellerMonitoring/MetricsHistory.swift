import PropellerCore

/// The last `capacity` samples of a task (its history window), for the `aggregated` block (SPEC §2).
///
/// A fixed-capacity ring: storage for `capacity` samples is reserved in `init`, `append` is O(1) and
/// overwrites the oldest sample once full, `aggregate()` is one pass. Only what aggregation needs is
/// kept, in 32 bytes per sample (`bytesPerSample`): CPU% (Double), RSS, read and written bytes (Int64),
/// with NaN / −1 marking a metric the sample does not carry.
public struct MetricsHistory: Sendable {
    /// The stored form of one sample.
    struct Record: Sendable {
        var cpuPercent: Double
        var memoryBytes: Int64
        var diskReadBytes: Int64
        var diskWriteBytes: Int64
    }

    private var records: ContiguousArray<Record>
    /// Index of the oldest record once the ring is full.
    private var oldest = 0

    /// The most samples kept (`history_size`); a negative value is treated as 0 (nothing kept).
    public let capacity: Int

    /// Bytes of storage per retained sample.
    public static var bytesPerSample: Int { MemoryLayout<Record>.stride }

    /// Creates an empty history and reserves room for `capacity` samples.
    public init(capacity: Int) {
        self.capacity = Swift.max(0, capacity)
        records = []
        records.reserveCapacity(self.capacity)
    }

    /// Samples currently kept, at most `capacity`.
    public var count: Int { records.count }

    /// Adds a sample, dropping the oldest when the history is full.
    public mutating func append(_ metrics: ProcessMetrics) {
        guard capacity > 0 else { return }
        let record = Record(
            cpuPercent: metrics.cpuPercent ?? .nan,
            memoryBytes: metrics.memoryBytes ?? -1,
            diskReadBytes: metrics.diskReadBytes ?? -1,
            diskWriteBytes: metrics.diskWriteBytes ?? -1
        )
        if records.count < capacity {
            records.append(record)
        } else {
            records[oldest] = record
            oldest += 1
            if oldest == capacity { oldest = 0 }
        }
    }

    /// The aggregate over the kept samples, oldest to newest (no percentiles).
    public func aggregate() -> AggregatedMetrics {
        var accumulator = AggregateAccumulator()
        records.withUnsafeBufferPointer { buffer in
            for index in oldest..<buffer.count { accumulator.add(buffer[index]) }
            for index in 0..<oldest { accumulator.add(buffer[index]) }
        }
        return accumulator.result
    }

    /// CPU% of the kept samples that carry it, oldest first (for percentiles).
    public var cpuPercents: [Double] {
        ordered.compactMap { $0.cpuPercent.isNaN ? nil : $0.cpuPercent }
    }

    /// Memory bytes of the kept samples that carry it, oldest first (for percentiles).
    public var memoryBytes: [Int64] {
        ordered.compactMap { $0.memoryBytes < 0 ? nil : $0.memoryBytes }
    }

    private var ordered: ArraySlice<Record> {
        records[oldest...] + records[..<oldest]
    }
}

extension AggregateAccumulator {
    @inline(__always)
    fileprivate mutating func add(_ record: MetricsHistory.Record) {
        add(
            cpu: record.cpuPercent,
            memory: record.memoryBytes,
            read: record.diskReadBytes,
            write: record.diskWriteBytes
        )
    }
}
