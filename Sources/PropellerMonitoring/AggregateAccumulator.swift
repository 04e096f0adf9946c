import PropellerCore

/// The aggregation rules of SPEC §2, fed one sample at a time in order (oldest first).
///
/// avg/max of CPU% and memory bytes over the samples that carry them; `total_disk_*` = last − first
/// cumulative value among the samples that carry it (never negative); `sample_count` = every sample.
/// A metric no sample carries aggregates to 0.
struct AggregateAccumulator: Sendable {
    private var count: Int64 = 0
    private var cpuSum = 0.0
    private var cpuCount = 0
    private var cpuMax = 0.0
    private var memorySum = 0.0
    private var memoryCount = 0
    private var memoryMax: Int64 = 0
    private var firstRead: Int64 = -1
    private var lastRead: Int64 = -1
    private var firstWrite: Int64 = -1
    private var lastWrite: Int64 = -1

    /// Starts with no samples; when `diskFromZero`, the disk totals count from a cumulative value of 0
    /// (the process's start) rather than from the first sample.
    init(diskFromZero: Bool = false) {
        if diskFromZero {
            firstRead = 0
            firstWrite = 0
        }
    }

    /// Adds one sample; absent values are nil (or NaN / negative, as `MetricsHistory` stores them).
    @inline(__always)
    mutating func add(cpu: Double?, memory: Int64?, read: Int64?, write: Int64?) {
        count += 1
        if let cpu, !cpu.isNaN {
            cpuSum += cpu
            cpuCount += 1
            cpuMax = Swift.max(cpuMax, cpu)
        }
        if let memory, memory >= 0 {
            memorySum += Double(memory)
            memoryCount += 1
            memoryMax = Swift.max(memoryMax, memory)
        }
        if let read, read >= 0 {
            if firstRead < 0 { firstRead = read }
            lastRead = read
        }
        if let write, write >= 0 {
            if firstWrite < 0 { firstWrite = write }
            lastWrite = write
        }
    }

    /// The aggregate of the samples added so far (no percentiles).
    var result: AggregatedMetrics {
        AggregatedMetrics(
            avgCPUUsage: cpuCount > 0 ? cpuSum / Double(cpuCount) : 0,
            maxCPUUsage: cpuMax,
            avgMemoryUsage: memoryCount > 0 ? memorySum / Double(memoryCount) : 0,
            maxMemoryUsage: memoryMax,
            totalDiskRead: lastRead >= 0 ? Swift.max(0, lastRead - Swift.max(0, firstRead)) : 0,
            totalDiskWrite: lastWrite >= 0 ? Swift.max(0, lastWrite - Swift.max(0, firstWrite)) : 0,
            sampleCount: count
        )
    }
}
