import PropellerCore

/// The aggregation rules, once: the proplet's `aggregated` (`AggregateAccumulator`, the same
/// avg/max/disk/count rules) and the manager's stores use them — `InMemoryStore` calls `aggregate`, and
/// `SQLiteStore`'s SQL mirrors it (its percentiles are picked from sorted columns with
/// `percentile(_:ofSorted:)`); the store suite checks both against random data.
///
/// - avg/max of cpu and memory: over the samples that carry the metric; 0 when none does.
/// - Percentiles are **nearest-rank**: the p-th percentile of n values is the value at 1-based rank
///   ⌈p·n/100⌉ in ascending order (always one of the stored values; p50 of 1, 2, 3, 4 is 2); nil
///   when no sample carries the metric.
/// - Disk totals: the last minus the first cumulative value by timestamp, among the samples that carry
///   it; 0 when fewer than two do, and 0 (not negative) when the counter went back (a restarted task).
/// - `sample_count`: every sample in the range, whatever metrics it carries.
public enum SampleStatistics {
    /// The 1-based nearest rank ⌈percent·count/100⌉ (at least 1) for `percent` in 1…100 and `count` ≥ 1.
    public static func nearestRank(percent: Int, count: Int) -> Int {
        max(1, (percent * count + 99) / 100)
    }

    /// The nearest-rank percentile of values sorted ascending; nil when there are none.
    public static func percentile<Value>(_ percent: Int, ofSorted values: [Value]) -> Value? {
        guard !values.isEmpty else { return nil }
        return values[nearestRank(percent: percent, count: values.count) - 1]
    }

    /// Growth of a cumulative counter between two readings: `last − first`, never negative, 0 when
    /// either is missing.
    public static func growth(from first: Int64?, to last: Int64?) -> Int64 {
        guard let first, let last, last > first else { return 0 }
        return last - first
    }

    /// The aggregate of samples given in ascending timestamp order; nil when there are none.
    public static func aggregate(_ samples: some Collection<TaskSample>) -> AggregatedMetrics? {
        guard !samples.isEmpty else { return nil }
        var accumulator = AggregateAccumulator()
        var cpu: [Double] = []
        var memory: [Int64] = []
        for sample in samples {
            let metrics = sample.metrics
            accumulator.add(
                cpu: metrics.cpuPercent,
                memory: metrics.memoryBytes,
                read: metrics.diskReadBytes,
                write: metrics.diskWriteBytes
            )
            if let value = metrics.cpuPercent { cpu.append(value) }
            if let value = metrics.memoryBytes { memory.append(value) }
        }
        cpu.sort()
        memory.sort()
        var result = accumulator.result
        result.p50CPUUsage = percentile(50, ofSorted: cpu)
        result.p95CPUUsage = percentile(95, ofSorted: cpu)
        result.p95MemoryUsage = percentile(95, ofSorted: memory).map(Double.init)
        return result
    }
}
