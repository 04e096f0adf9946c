import PropellerCore
import PropellerManager
import PropellerTestSupport
import Testing

@Suite("Store: retention (every store)")
struct StoreRetentionTests {
    typealias F = StoreFixtures

    private static func timestamps(_ store: any Store, task: String) async throws -> [Timestamp] {
        try await store.taskSamples(taskID: task, range: .all, order: .ascending, page: Page(limit: 1000)).items
            .map(\.timestamp)
    }

    @Test("the per-series cap keeps the newest samples of every task and proplet", arguments: StoreFactory.all)
    func cap(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            var random = SeededGenerator(seed: 3)
            for task in ["t-1", "t-2"] {
                let samples = (0..<50).map { F.sample(task, at: Double($0)) }.shuffled(using: &random)
                try await store.insertTaskSamples(samples)
            }
            try await store.insertTaskSamples((0..<10).map { F.sample("t-small", at: Double($0)) })
            try await store.insertPropletSamples((0..<30).map { F.propletSample("p-1", at: Double($0)) })

            let policy = RetentionPolicy(maxSamplesPerSeries: 20, maxAgeSeconds: nil)
            #expect(try await store.applyRetention(policy, now: F.time(100)) == 30 + 30 + 10)
            for task in ["t-1", "t-2"] {
                #expect(try await Self.timestamps(store, task: task) == (30..<50).map { F.time(Double($0)) })
            }
            #expect(try await Self.timestamps(store, task: "t-small").count == 10)
            let proplet = try await store.propletSamples(propletID: "p-1", range: .all, order: .ascending, page: Page())
            #expect(proplet.items.map(\.timestamp) == (10..<30).map { F.time(Double($0)) })
            #expect(try await store.applyRetention(policy, now: F.time(100)) == 0)

            // The aggregate covers only what is left.
            #expect(try await store.taskAggregate(taskID: "t-1", range: .all)?.sampleCount == 20)
        }
    }

    @Test("samples older than the maximum age go; one exactly at the limit stays", arguments: StoreFactory.all)
    func maximumAge(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.insertTaskSamples((0...20).map { F.sample("t-1", at: Double($0) * 10) })
            try await store.insertTaskSamples([F.sample("t-old", at: 5)])
            try await store.insertPropletSamples((0...20).map { F.propletSample("p-1", at: Double($0) * 10) })

            let policy = RetentionPolicy(maxSamplesPerSeries: 1000, maxAgeSeconds: 100)
            // now = 200 s: the limit is 100 s; samples at 0…90 s go (10 per series) and the t-old one.
            #expect(try await store.applyRetention(policy, now: F.time(200)) == 10 + 1 + 10)
            #expect(try await Self.timestamps(store, task: "t-1") == (10...20).map { F.time(Double($0) * 10) })
            #expect(try await Self.timestamps(store, task: "t-old").isEmpty)
            let proplet = try await store.propletSamples(propletID: "p-1", range: .all, order: .ascending, page: Page())
            #expect(proplet.items.first?.timestamp == F.time(100))
        }
    }

    @Test("cap and age together drop the oldest first", arguments: StoreFactory.all)
    func capAndAge(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.insertTaskSamples((0..<100).map { F.sample("t-1", at: Double($0)) })
            let policy = RetentionPolicy(maxSamplesPerSeries: 30, maxAgeSeconds: 50)
            #expect(try await store.applyRetention(policy, now: F.time(120)) == 70)
            #expect(try await Self.timestamps(store, task: "t-1") == (70..<100).map { F.time(Double($0)) })
            let unlimited = RetentionPolicy(maxSamplesPerSeries: 30, maxAgeSeconds: Int.max)
            #expect(try await store.applyRetention(unlimited, now: F.time(120)) == 0)
        }
    }
}
