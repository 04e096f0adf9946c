import PropellerCore
import PropellerManager
import PropellerMonitoring
import PropellerTestSupport
import Testing

@Suite("Store: aggregates (every store)")
struct StoreAggregateTests {
    typealias F = StoreFixtures

    /// The aggregate recomputed the obvious way, independently of the stores' code.
    static func naive(_ samples: [TaskSample], in range: TimeRange) -> AggregatedMetrics? {
        let lower = range.from ?? Timestamp(microsecondsSinceEpoch: .min)
        let upper = range.to ?? Timestamp(microsecondsSinceEpoch: .max)
        let inRange = samples.filter { sample in lower <= sample.timestamp && sample.timestamp <= upper }
            .sorted { $0.timestamp < $1.timestamp }
        guard !inRange.isEmpty else { return nil }
        let cpu: [Double] = inRange.compactMap { $0.metrics.cpuPercent }
        let memory: [Int64] = inRange.compactMap { $0.metrics.memoryBytes }
        let reads: [Int64] = inRange.compactMap { $0.metrics.diskReadBytes }
        let writes: [Int64] = inRange.compactMap { $0.metrics.diskWriteBytes }
        let cpuAverage = cpu.isEmpty ? 0 : cpu.reduce(0, +) / Double(cpu.count)
        let memoryAverage = memory.isEmpty ? 0 : Double(memory.reduce(0, +)) / Double(memory.count)
        func nearestRank<T>(_ percent: Double, _ values: [T], _ less: (T, T) -> Bool) -> T? {
            guard !values.isEmpty else { return nil }
            let rank = Int((percent / 100 * Double(values.count)).rounded(.up))
            return values.sorted(by: less)[max(rank, 1) - 1]
        }
        func total(_ values: [Int64]) -> Int64 {
            guard let first = values.first, let last = values.last else { return 0 }
            return max(last - first, 0)
        }
        return AggregatedMetrics(
            avgCPUUsage: cpuAverage,
            maxCPUUsage: cpu.max() ?? 0,
            avgMemoryUsage: memoryAverage,
            maxMemoryUsage: memory.max() ?? 0,
            totalDiskRead: total(reads),
            totalDiskWrite: total(writes),
            sampleCount: Int64(inRange.count),
            p50CPUUsage: nearestRank(50, cpu, <),
            p95CPUUsage: nearestRank(95, cpu, <),
            p95MemoryUsage: nearestRank(95, memory, <).map(Double.init)
        )
    }

    static func close(_ lhs: Double, _ rhs: Double) -> Bool {
        abs(lhs - rhs) <= 1e-9 * max(1, abs(lhs), abs(rhs))
    }

    @Test("aggregates equal a naive recomputation over random samples and ranges", arguments: StoreFactory.all)
    func randomAggregates(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            var random = SeededGenerator(seed: 2025)
            var byTask: [String: [TaskSample]] = [:]
            for task in ["t-1", "t-2", "t-3"] {
                let count = Int.random(in: 1...700, using: &random)
                var times = Set<Int64>()
                while times.count < count { times.insert(Int64.random(in: 0..<3_600_000_000, using: &random)) }
                let samples = times.map {
                    F.randomSample(
                        task,
                        at: Timestamp(microsecondsSinceEpoch: F.epoch.microsecondsSinceEpoch + $0),
                        using: &random
                    )
                }
                byTask[task] = samples
                try await store.insertTaskSamples(samples.shuffled(using: &random))
            }
            for (task, samples) in byTask.sorted(by: { $0.key < $1.key }) {
                var ranges: [TimeRange] = [.all]
                for _ in 0..<15 {
                    let bounds = [
                        Int64.random(in: 0..<3_600_000_000, using: &random),
                        Int64.random(in: 0..<3_600_000_000, using: &random),
                    ]
                    .sorted().map { F.epoch.adding(seconds: Double($0) / 1e6) }
                    ranges.append(TimeRange(from: bounds[0], to: bounds[1]))
                }
                // A range whose ends are exactly stored timestamps, and open-ended ranges.
                let sorted = samples.map(\.timestamp).sorted()
                ranges.append(TimeRange(from: sorted[sorted.count / 3], to: sorted[sorted.count - 1]))
                ranges.append(TimeRange(from: sorted[sorted.count / 2]))
                ranges.append(TimeRange(to: sorted[sorted.count / 2]))
                for range in ranges {
                    let actual = try await store.taskAggregate(taskID: task, range: range)
                    // The store's SQL against the test's own recomputation and against the one definition
                    // in code (PropellerMonitoring's `SampleStatistics`): all three agree.
                    Self.expectAgreement(actual, Self.naive(samples, in: range), "naive, \(task) \(range)")
                    Self.expectAgreement(actual, Self.definition(samples, in: range), "definition, \(task) \(range)")
                }
            }
        }
    }

    @Test(
        "one taskMetrics call answers the page and the aggregate of taskSamples + taskAggregate",
        arguments: StoreFactory.all
    )
    func pageWithAggregate(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            var random = SeededGenerator(seed: 14)
            var times = Set<Int64>()
            while times.count < 300 { times.insert(Int64.random(in: 0..<600_000_000, using: &random)) }
            let samples = times.map {
                F.randomSample(
                    "t-1",
                    at: Timestamp(microsecondsSinceEpoch: F.epoch.microsecondsSinceEpoch + $0),
                    using: &random
                )
            }
            try await store.insertTaskSamples(samples.shuffled(using: &random))
            try await store.insertTaskSamples([F.sample("t-2", at: 1, value: 1)])
            let sorted = samples.map(\.timestamp).sorted()
            let ranges: [TimeRange] = [
                .all, TimeRange(from: sorted[40], to: sorted[250]), TimeRange(from: sorted[299]),
                TimeRange(to: sorted[0]), TimeRange(from: sorted[299].adding(seconds: 1)),
            ]
            let pages = [
                Page(offset: 0, limit: 100), Page(offset: 0, limit: 0), Page(offset: 5, limit: 7),
                Page(offset: 295, limit: 100), Page(offset: 1000, limit: 10), Page(offset: 0, limit: 1000),
            ]
            for task in ["t-1", "t-2", "no-such-task"] {
                for range in ranges {
                    for order in [SampleOrder.ascending, .descending] {
                        for page in pages {
                            let context = "\(task) \(range) \(order) offset \(page.offset) limit \(page.limit)"
                            let (combined, aggregate) = try await store.taskMetrics(
                                taskID: task,
                                range: range,
                                order: order,
                                page: page
                            )
                            let separate = try await store.taskSamples(
                                taskID: task,
                                range: range,
                                order: order,
                                page: page
                            )
                            #expect(combined.items == separate.items, "\(context)")
                            #expect(combined.total == separate.total, "\(context)")
                            let expected = try await store.taskAggregate(taskID: task, range: range)
                            #expect(aggregate == expected, "\(context)")
                            if task == "t-1" {
                                Self.expectAgreement(aggregate, Self.naive(samples, in: range), context)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `SampleStatistics.aggregate` over the samples in `range`, in time order.
    static func definition(_ samples: [TaskSample], in range: TimeRange) -> AggregatedMetrics? {
        let lower = range.from ?? Timestamp(microsecondsSinceEpoch: .min)
        let upper = range.to ?? Timestamp(microsecondsSinceEpoch: .max)
        return SampleStatistics.aggregate(
            samples.filter { lower <= $0.timestamp && $0.timestamp <= upper }.sorted { $0.timestamp < $1.timestamp }
        )
    }

    /// Every field equal (averages to 1e-9 relative).
    static func expectAgreement(_ actual: AggregatedMetrics?, _ expected: AggregatedMetrics?, _ context: String) {
        guard let expected else {
            #expect(actual == nil, "\(context)")
            return
        }
        guard let got = actual else {
            Issue.record("no aggregate: \(context)")
            return
        }
        #expect(got.sampleCount == expected.sampleCount, "\(context)")
        #expect(
            close(got.avgCPUUsage, expected.avgCPUUsage),
            "avg cpu \(got.avgCPUUsage) vs \(expected.avgCPUUsage): \(context)"
        )
        #expect(close(got.avgMemoryUsage, expected.avgMemoryUsage), "\(context)")
        #expect(got.maxCPUUsage == expected.maxCPUUsage, "\(context)")
        #expect(got.maxMemoryUsage == expected.maxMemoryUsage, "\(context)")
        #expect(got.totalDiskRead == expected.totalDiskRead, "\(context)")
        #expect(got.totalDiskWrite == expected.totalDiskWrite, "\(context)")
        #expect(got.p50CPUUsage == expected.p50CPUUsage, "\(context)")
        #expect(got.p95CPUUsage == expected.p95CPUUsage, "\(context)")
        #expect(got.p95MemoryUsage == expected.p95MemoryUsage, "\(context)")
    }

    @Test("percentiles are nearest-rank and totals are last minus first", arguments: StoreFactory.all)
    func handWorkedAggregate(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            // cpu 1, 2, 3, 4 (stored out of order); disk read grows 100 → 400.
            try await store.insertTaskSamples([3, 1, 4, 2].map { F.sample("t-1", at: $0, value: $0) })
            let aggregate = try #require(try await store.taskAggregate(taskID: "t-1", range: .all))
            #expect(aggregate.sampleCount == 4)
            #expect(aggregate.avgCPUUsage == 2.5)
            #expect(aggregate.maxCPUUsage == 4)
            #expect(aggregate.p50CPUUsage == 2)
            #expect(aggregate.p95CPUUsage == 4)
            #expect(aggregate.avgMemoryUsage == 2500)
            #expect(aggregate.maxMemoryUsage == 4000)
            #expect(aggregate.p95MemoryUsage == 4000)
            #expect(aggregate.totalDiskRead == 300)
            #expect(aggregate.totalDiskWrite == 150)

            let single = try #require(
                try await store.taskAggregate(taskID: "t-1", range: TimeRange(from: F.time(2), to: F.time(2)))
            )
            #expect(single.sampleCount == 1)
            #expect(single.p50CPUUsage == 2 && single.p95CPUUsage == 2)
            #expect(single.totalDiskRead == 0)
        }
    }

    @Test("metrics that were not collected are left out, not counted as zero", arguments: StoreFactory.all)
    func missingMetrics(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            let bare = TaskSample(
                taskID: "t-1",
                propletID: "p",
                metrics: ProcessMetrics(),
                aggregated: nil,
                timestamp: F.time(0)
            )
            try await store.insertTaskSamples([bare])
            let onlyBare = try #require(try await store.taskAggregate(taskID: "t-1", range: .all))
            #expect(onlyBare == AggregatedMetrics(sampleCount: 1))

            try await store.insertTaskSamples([F.sample("t-1", at: 1, value: 8), F.sample("t-1", at: 2, value: 6)])
            let mixed = try #require(try await store.taskAggregate(taskID: "t-1", range: .all))
            #expect(mixed.sampleCount == 3)
            #expect(mixed.avgCPUUsage == 7)
            #expect(mixed.p50CPUUsage == 6)
            #expect(mixed.totalDiskRead == 0)  // the counter went back (800 → 600): never negative
            #expect(try await store.taskAggregate(taskID: "t-9", range: .all) == nil)
            #expect(try await store.taskAggregate(taskID: "t-1", range: TimeRange(from: F.time(5))) == nil)
        }
    }
}
