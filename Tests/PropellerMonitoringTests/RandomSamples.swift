import PropellerCore
import PropellerTestSupport

/// Random sample sequences with cumulative disk counters and randomly missing metrics.
enum RandomSamples {
    static func sequence(count: Int, using generator: inout SeededGenerator) -> [ProcessMetrics] {
        let omitsDisk = Bool.random(using: &generator)
        let sometimesMissing = Bool.random(using: &generator)
        var read: Int64 = .random(in: 0...1_000_000, using: &generator)
        var written: Int64 = .random(in: 0...1_000_000, using: &generator)
        return (0..<count).map { _ in
            read += .random(in: 0...5_000_000, using: &generator)
            written += .random(in: 0...5_000_000, using: &generator)
            let missing = sometimesMissing && Int.random(in: 0..<4, using: &generator) == 0
            return ProcessMetrics(
                cpuPercent: missing ? nil : .random(in: 0...400, using: &generator),
                memoryBytes: missing ? nil : .random(in: 0...(64 << 30), using: &generator),
                diskReadBytes: omitsDisk ? nil : read,
                diskWriteBytes: omitsDisk ? nil : written,
                uptimeSeconds: 1
            )
        }
    }

    /// SPEC §2 aggregation written the obvious way, for comparison. `diskFromZero` counts the disk
    /// totals from 0 instead of from the first sample (the lifetime rule).
    static func naiveAggregate(_ samples: [ProcessMetrics], diskFromZero: Bool = false) -> AggregatedMetrics {
        let cpu = samples.compactMap(\.cpuPercent)
        let memory = samples.compactMap(\.memoryBytes)
        let reads = samples.compactMap(\.diskReadBytes)
        let writes = samples.compactMap(\.diskWriteBytes)
        func total(_ values: [Int64]) -> Int64 {
            guard let last = values.last else { return 0 }
            return last - (diskFromZero ? 0 : values[0])
        }
        return AggregatedMetrics(
            avgCPUUsage: cpu.isEmpty ? 0 : cpu.reduce(0, +) / Double(cpu.count),
            maxCPUUsage: cpu.max() ?? 0,
            avgMemoryUsage: memory.isEmpty ? 0 : memory.map(Double.init).reduce(0, +) / Double(memory.count),
            maxMemoryUsage: memory.max() ?? 0,
            totalDiskRead: total(reads),
            totalDiskWrite: total(writes),
            sampleCount: Int64(samples.count)
        )
    }

    /// Whether two aggregates agree: integers exactly, averages to 1e-9 relative.
    static func agree(_ lhs: AggregatedMetrics, _ rhs: AggregatedMetrics) -> Bool {
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(a), abs(b)) }
        return close(lhs.avgCPUUsage, rhs.avgCPUUsage) && lhs.maxCPUUsage == rhs.maxCPUUsage
            && close(lhs.avgMemoryUsage, rhs.avgMemoryUsage) && lhs.maxMemoryUsage == rhs.maxMemoryUsage
            && lhs.totalDiskRead == rhs.totalDiskRead && lhs.totalDiskWrite == rhs.totalDiskWrite
            && lhs.sampleCount == rhs.sampleCount
    }
}
