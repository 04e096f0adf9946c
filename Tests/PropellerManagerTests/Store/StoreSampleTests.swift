import PropellerCore
import PropellerManager
import PropellerTestSupport
import Testing

@Suite("Store: samples (every store)")
struct StoreSampleTests {
    typealias F = StoreFixtures

    @Test("samples page in ascending and descending time order with the total", arguments: StoreFactory.all)
    func pagingAndOrder(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            var random = SeededGenerator(seed: 7)
            let seconds = (0..<25).map(Double.init).shuffled(using: &random)
            let samples = seconds.map { F.sample("t-1", at: $0, value: $0) }
            #expect(try await store.insertTaskSamples(Array(samples[..<10])) == 10)
            #expect(try await store.insertTaskSamples(Array(samples[10...])) == 15)
            try await store.insertTaskSamples([F.sample("t-2", at: 3)])

            let first = try await store.taskSamples(
                taskID: "t-1",
                range: .all,
                order: .ascending,
                page: Page(limit: 10)
            )
            #expect(first.total == 25)
            #expect(first.items.map(\.timestamp) == (0..<10).map { F.time(Double($0)) })
            #expect(first.items.first == F.sample("t-1", at: 0, value: 0))

            let last = try await store.taskSamples(
                taskID: "t-1",
                range: .all,
                order: .ascending,
                page: Page(offset: 20, limit: 10)
            )
            #expect(last.items.map(\.timestamp) == (20..<25).map { F.time(Double($0)) })

            let newest = try await store.taskSamples(
                taskID: "t-1",
                range: .all,
                order: .descending,
                page: Page(offset: 2, limit: 4)
            )
            #expect(newest.total == 25)
            #expect(newest.items.map(\.timestamp) == [22, 21, 20, 19].map { F.time(Double($0)) })
            #expect(newest.items.allSatisfy { $0.taskID == "t-1" })

            let none = try await store.taskSamples(taskID: "t-9", range: .all, order: .ascending, page: Page())
            #expect(none.total == 0 && none.items.isEmpty)
        }
    }

    @Test("time ranges include both ends and either end may be open", arguments: StoreFactory.all)
    func timeRanges(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.insertTaskSamples((0..<10).map { F.sample("t-1", at: Double($0)) })
            func times(_ range: TimeRange, _ order: SampleOrder = .ascending) async throws -> [Timestamp] {
                try await store.taskSamples(taskID: "t-1", range: range, order: order, page: Page()).items.map(
                    \.timestamp
                )
            }
            #expect(try await times(TimeRange(from: F.time(3), to: F.time(6))) == [3, 4, 5, 6].map(F.time))
            #expect(try await times(TimeRange(from: F.time(2.5), to: F.time(4.5))) == [3, 4].map(F.time))
            #expect(try await times(TimeRange(from: F.time(8))) == [8, 9].map(F.time))
            #expect(try await times(TimeRange(to: F.time(1)), .descending) == [1, 0].map(F.time))
            #expect(try await times(TimeRange(from: F.time(5), to: F.time(5))) == [F.time(5)])
            #expect(try await times(TimeRange(from: F.time(6), to: F.time(5))).isEmpty)
            let counted = try await store.taskSamples(
                taskID: "t-1",
                range: TimeRange(from: F.time(2), to: F.time(8)),
                order: .descending,
                page: Page(offset: 1, limit: 2)
            )
            #expect(counted.total == 7)
            #expect(counted.items.map(\.timestamp) == [7, 6].map(F.time))
        }
    }

    @Test("a sample is stored once per (task, timestamp); the first one stays", arguments: StoreFactory.all)
    func deduplication(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            #expect(try await store.insertTaskSamples([F.sample("t-1", at: 1, value: 10)]) == 1)
            let again = [
                F.sample("t-1", at: 1, value: 99), F.sample("t-1", at: 2, value: 20), F.sample("t-1", at: 2, value: 21),
                F.sample("t-2", at: 1, value: 30),
            ]
            #expect(try await store.insertTaskSamples(again) == 2)
            #expect(try await store.insertTaskSamples([]) == 0)
            let stored = try await store.taskSamples(taskID: "t-1", range: .all, order: .ascending, page: Page())
            #expect(stored.items.map(\.metrics.cpuPercent) == [10, 20])
            #expect(try await store.taskAggregate(taskID: "t-1", range: .all)?.sampleCount == 2)
            #expect(try await store.taskSamples(taskID: "t-2", range: .all, order: .ascending, page: Page()).total == 1)
        }
    }

    @Test("random samples with missing metrics and aggregates round-trip exactly", arguments: StoreFactory.all)
    func roundTrip(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            var random = SeededGenerator(seed: 11)
            let samples = (0..<300).map {
                F.randomSample("t-1", at: F.time(Double($0) * 0.25), using: &random)
            }
            #expect(try await store.insertTaskSamples(samples) == 300)
            var read: [TaskSample] = []
            for offset in stride(from: 0, to: 300, by: 100) {
                let page = Page(offset: offset, limit: 100)
                read += try await store.taskSamples(taskID: "t-1", range: .all, order: .ascending, page: page).items
            }
            #expect(read == samples)
        }
    }

    @Test("deleting a task removes its samples and only its samples", arguments: StoreFactory.all)
    func deleteRemovesSamples(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.createTask(F.task("t-1"))
            try await store.createTask(F.task("t-2"))
            try await store.insertTaskSamples((0..<5).map { F.sample("t-1", at: Double($0)) })
            try await store.insertTaskSamples((0..<3).map { F.sample("t-2", at: Double($0)) })
            #expect(try await store.deleteTask(id: "t-1") == .deleted)
            try await store.createTask(F.task("t-1"))
            #expect(try await store.taskSamples(taskID: "t-1", range: .all, order: .ascending, page: Page()).total == 0)
            #expect(try await store.taskAggregate(taskID: "t-1", range: .all) == nil)
            #expect(try await store.taskSamples(taskID: "t-2", range: .all, order: .ascending, page: Page()).total == 3)
        }
    }

    @Test("proplet samples page, order, range and deduplicate like task samples", arguments: StoreFactory.all)
    func propletSamples(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            let samples = (0..<12).reversed().map { F.propletSample("p-1", at: Double($0), load: Double($0)) }
            #expect(try await store.insertPropletSamples(samples) == 12)
            #expect(try await store.insertPropletSamples([F.propletSample("p-1", at: 4, load: 99)]) == 0)
            try await store.insertPropletSamples([F.propletSample("p-2", at: 4)])

            let page = try await store.propletSamples(
                propletID: "p-1",
                range: TimeRange(from: F.time(2), to: F.time(9)),
                order: .descending,
                page: Page(offset: 1, limit: 3)
            )
            #expect(page.total == 8)
            #expect(page.items == [8, 7, 6].map { F.propletSample("p-1", at: $0, load: $0) })
            let ascending = try await store.propletSamples(
                propletID: "p-1",
                range: .all,
                order: .ascending,
                page: Page(limit: 2)
            )
            #expect(ascending.items.map(\.host.load1m) == [0, 1])

            #expect(try await store.deleteProplet(id: "p-1") == .notFound)  // never registered, samples stay
            #expect(
                try await store.propletSamples(propletID: "p-1", range: .all, order: .ascending, page: Page()).total
                    == 12
            )
            try await store.seed(F.proplet("p-1", alive: false))
            #expect(try await store.deleteProplet(id: "p-1") == .deleted)
            let gone = try await store.propletSamples(propletID: "p-1", range: .all, order: .ascending, page: Page())
            #expect(gone.total == 0)
            #expect(
                try await store.propletSamples(propletID: "p-2", range: .all, order: .ascending, page: Page()).total
                    == 1
            )
        }
    }

    @Test("concurrent writers lose no sample", arguments: StoreFactory.all)
    func concurrentInserts(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            let stored = try await withThrowingTaskGroup(of: Int.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        var stored = 0
                        for batch in 0..<10 {
                            let samples = (0..<50).map {
                                F.sample("t-\(writer % 4)", at: Double(writer * 1000 + batch * 50 + $0))
                            }
                            stored += try await store.insertTaskSamples(samples)
                        }
                        return stored
                    }
                }
                var total = 0
                for try await count in group { total += count }
                return total
            }
            #expect(stored == 4000)
            for task in 0..<4 {
                let page = try await store.taskSamples(
                    taskID: "t-\(task)",
                    range: .all,
                    order: .ascending,
                    page: Page()
                )
                #expect(page.total == 1000)
            }
        }
    }
}
