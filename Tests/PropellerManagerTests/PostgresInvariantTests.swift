import Foundation
import HummingbirdTesting
import PropellerCore
import PropellerTestSupport
import Testing

@testable import PropellerManager

/// The store's invariants with two managers on one PostgreSQL database: each manager has its own
/// `PostgresStore` (its own connection pool), as two manager processes would.
@Suite("Invariants in the store: two managers on PostgreSQL")
struct PostgresInvariantTests {
    @Test("100 concurrent starts through two managers on one PostgreSQL database: one 200, 99 × 409, one command")
    func concurrentStartsTwoManagers() async throws {
        try await withPostgresStore { firstStore, server in
            let url = try #require(DatabaseURL(server.url))
            try await PostgresStore.withStore(url: url, logger: .quiet) { secondStore in
                let first = TestManager(store: firstStore)
                let second = TestManager(store: secondStore)
                try await first.addProplet(id: "p1")
                try await second.addProplet(id: "p2")
                try await first.withClient { firstClient in
                    let task = try await firstClient.createTask()
                    try await second.withClient { secondClient in
                        async let one = InvariantTests.concurrentStarts(firstClient, taskID: task.id, count: 50)
                        async let two = InvariantTests.concurrentStarts(secondClient, taskID: task.id, count: 50)
                        let statuses = try await one + two
                        #expect(statuses.filter { $0 == 200 }.count == 1)
                        #expect(statuses.filter { $0 == 409 }.count == 99, "\(statuses)")
                    }
                    let commands =
                        InvariantTests.startCommands(first.pubsub, first.topics)
                        + InvariantTests.startCommands(second.pubsub, second.topics)
                    #expect(commands == 1)
                    #expect(try await secondStore.task(id: task.id)?.state == .running)
                }
            }
        }
    }

    @Test("two managers' liveness sweeps at once fail each lost task once")
    func concurrentSweeps() async throws {
        try await withPostgresStore { firstStore, server in
            let url = try #require(DatabaseURL(server.url))
            try await PostgresStore.withStore(url: url, logger: .quiet) { secondStore in
                let now = StoreFixtures.time(100)
                for index in 0..<20 {
                    _ = try await firstStore.recordHeartbeat(
                        propletID: "p\(index)",
                        runningTasks: 1,
                        at: StoreFixtures.time(0)
                    )
                    try await firstStore.createTask(StoreFixtures.task("t\(index)", created: Double(index)))
                    _ = try await firstStore.startTask(
                        id: "t\(index)",
                        propletID: "p\(index)",
                        at: StoreFixtures.time(1)
                    )
                }
                async let one = firstStore.markSilentPropletsLost(seenBefore: StoreFixtures.time(50), at: now)
                async let two = secondStore.markSilentPropletsLost(seenBefore: StoreFixtures.time(50), at: now)
                let losses = try await one + two
                #expect(losses.map(\.proplet.id).sorted() == (0..<20).map { "p\($0)" }.sorted())
                #expect(losses.flatMap(\.failedTasks).count == 20)
                let failed = try await firstStore.tasks(state: .failed, page: Page(limit: 100))
                #expect(failed.total == 20)
                #expect(failed.items.allSatisfy { $0.error == WasmTask.propletLostError })
            }
        }
    }
}
