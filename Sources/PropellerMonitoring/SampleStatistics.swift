import PropellerCore

/// The definitions both stores aggregate with, so they agree exactly.
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
        var cpu: [Double] = []
        var memory: [Int64] = []
        var cpuSum = 0.0
        var memorySum = 0.0
        var firstRead: Int64?
        var lastRead: Int64?
        var firstWrite: Int64?
        var lastWrite: Int64?
        for sample in samples {
            let metrics = sample.metrics
            if let value = metrics.cpuPercent {
                cpu.append(value)
                cpuSum += value
            }
            if let value = metrics.memoryBytes {
                memory.append(value)
                memorySum += Double(value)
            }
            if let value = metrics.diskReadBytes {
                firstRead = firstRead ?? value
                lastRead = value
            }
            if let value = metrics.diskWriteBytes {
                firstWrite = firstWrite ?? value
                lastWrite = value
            }
        }
        cpu.sort()
        memory.sort()
        return AggregatedMetrics(
            avgCPUUsage: cpu.isEmpty ? 0 : cpuSum / Double(cpu.count),
            maxCPUUsage: cpu.last ?? 0,
            avgMemoryUsage: memory.isEmpty ? 0 : memorySum / Double(memory.count),
            maxMemoryUsage: memory.last ?? 0,
            totalDiskRead: growth(from: firstRead, to: lastRead),
            totalDiskWrite: growth(from: firstWrite, to: lastWrite),
            sampleCount: Int64(samples.count),
            p50CPUUsage: percentile(50, ofSorted: cpu),
            p95CPUUsage: percentile(95, ofSorted: cpu),
            p95MemoryUsage: percentile(95, ofSorted: memory).map(Double.init)
        )
    }
}
