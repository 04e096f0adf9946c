import PropellerCore
import PropellerMonitoring
import PropellerTestSupport
import Testing

/// The history ring and its one-pass aggregation (SPEC §2 `aggregated`).
@Suite("MetricsHistory")
struct MetricsHistoryTests {
    @Test("the ring keeps at most capacity samples and aggregates only the newest ones")
    func capacityRespected() {
        var history = MetricsHistory(capacity: 5)
        #expect(history.capacity == 5)
        #expect(history.aggregate() == AggregatedMetrics())
        let samples = (1...12).map {
            ProcessMetrics(cpuPercent: Double($0), memoryBytes: Int64($0) * 100, diskReadBytes: Int64($0) * 10)
        }
        for (index, sample) in samples.enumerated() {
            history.append(sample)
            #expect(history.count == min(index + 1, 5))
        }
        let aggregate = history.aggregate()
        #expect(aggregate.sampleCount == 5)
        #expect(aggregate.avgCPUUsage == 10)
        #expect(aggregate.maxCPUUsage == 12)
        #expect(aggregate.avgMemoryUsage == 1000)
        #expect(aggregate.maxMemoryUsage == 1200)
        #expect(aggregate.totalDiskRead == 120 - 80)
        #expect(aggregate.totalDiskWrite == 0)
        #expect(history.cpuPercents == [8, 9, 10, 11, 12])
        #expect(history.memoryBytes == [800, 900, 1000, 1100, 1200])
    }

    @Test("a history of capacity 0 keeps nothing")
    func zeroCapacity() {
        var history = MetricsHistory(capacity: 0)
        history.append(ProcessMetrics(cpuPercent: 50))
        #expect(history.count == 0)
        #expect(history.aggregate().sampleCount == 0)
        #expect(MetricsHistory(capacity: -3).capacity == 0)
    }

    @Test("aggregation equals a naive recomputation over 500 random sequences", arguments: 0..<5)
    func matchesNaive(batch: Int) {
        for seed in UInt64(batch * 100)..<UInt64(batch * 100 + 100) {
            var generator = SeededGenerator(seed: seed)
            let capacity = Int.random(in: 1...64, using: &generator)
            let samples = RandomSamples.sequence(count: .random(in: 0...300, using: &generator), using: &generator)
            var history = MetricsHistory(capacity: capacity)
            for (index, sample) in samples.enumerated() {
                history.append(sample)
                // Check at a few points, including while the ring is still filling.
                if index == capacity - 1 || index == samples.count - 1 || index % 37 == 0 {
                    let window = Array(samples[max(0, index + 1 - capacity)...index])
                    let expected = RandomSamples.naiveAggregate(window)
                    #expect(RandomSamples.agree(history.aggregate(), expected), "seed \(seed), index \(index)")
                    #expect(history.cpuPercents == window.compactMap(\.cpuPercent), "seed \(seed)")
                }
            }
            #expect(history.count == min(samples.count, capacity))
        }
    }

    @Test("a retained sample takes at most 64 bytes")
    func compactStorage() {
        #expect(MetricsHistory.bytesPerSample <= 64)
        #expect(MetricsHistory.bytesPerSample == 32)
    }
}

/// The whole-life aggregate behind `final_metrics`.
@Suite("LifetimeAggregate")
struct LifetimeAggregateTests {
    @Test("the lifetime aggregate equals a naive recomputation with disk totals counted from 0")
    func matchesNaive() {
        for seed in UInt64(1000)..<1200 {
            var generator = SeededGenerator(seed: seed)
            let samples = RandomSamples.sequence(count: .random(in: 0...200, using: &generator), using: &generator)
            var lifetime = LifetimeAggregate()
            for sample in samples { lifetime.add(sample) }
            let expected = RandomSamples.naiveAggregate(samples, diskFromZero: true)
            #expect(RandomSamples.agree(lifetime.aggregate, expected), "seed \(seed)")
        }
    }

    @Test("a task with a single final sample reports its whole I/O")
    func singleSample() {
        var lifetime = LifetimeAggregate()
        #expect(lifetime.aggregate == AggregatedMetrics())
        lifetime.add(ProcessMetrics(cpuPercent: 80, memoryBytes: 4096, diskReadBytes: 10, diskWriteBytes: 1 << 24))
        let aggregate = lifetime.aggregate
        #expect(aggregate.totalDiskWrite == 1 << 24)
        #expect(aggregate.totalDiskRead == 10)
        #expect(aggregate.avgCPUUsage == 80)
        #expect(aggregate.sampleCount == 1)
    }
}
