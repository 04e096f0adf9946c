import PropellerCore

/// The aggregate over every sample of a task's life (for `final_metrics`), in O(1) memory.
///
/// Same rules as `MetricsHistory.aggregate()` except the disk totals: the I/O counters of a process
/// start at 0, so `total_disk_*` is the last cumulative value — I/O before the first sample counts,
/// and a task shorter than its interval still reports the bytes of its single (final) sample.
public struct LifetimeAggregate: Sendable {
    private var accumulator = AggregateAccumulator(diskFromZero: true)

    /// An aggregate of no samples.
    public init() {}

    /// Adds one sample (in order).
    public mutating func add(_ metrics: ProcessMetrics) {
        accumulator.add(
            cpu: metrics.cpuPercent,
            memory: metrics.memoryBytes,
            read: metrics.diskReadBytes,
            write: metrics.diskWriteBytes
        )
    }

    /// The aggregate so far (no percentiles).
    public var aggregate: AggregatedMetrics { accumulator.result }
}
