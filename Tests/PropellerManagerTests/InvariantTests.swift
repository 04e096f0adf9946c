import Foundation
import HummingbirdTesting
import Logging
import PropellerCore
import PropellerMQTT
import PropellerTestSupport
import Testing

@testable import PropellerManager

/// The invariants the store holds on its own (no lock in the process): concurrent starts, repeated and
/// foreign results, and the timers on a manual clock.
@Suite("Invariants in the store")
struct InvariantTests {
    /// Sends `count` concurrent `POST /tasks/{id}/start` through `client`; returns the status codes.
    static func concurrentStarts(
        _ client: any TestClientProtocol,
        taskID: String,
        count: Int
    ) async throws -> [Int] {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<count {
                group.addTask { try await client.send("/tasks/\(taskID)/start", .post).status.code }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    static func startCommands(_ pubsub: InMemoryPubSub, _ topics: Topics) -> Int {
        pubsub.publishedMessages.filter { topics.kind(of: $0.topic) == .managerStart }.count
    }

    @Test("100 concurrent starts of one pending task on SQLite: one 200, 99 × 409, one start command")
    func concurrentStartsOneStore() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore(path: directory.appendingPathComponent("m.db").path, logger: .quiet)
            let manager = TestManager(store: store)
            try await manager.addProplet(id: "p1")
            try await manager.addProplet(id: "p2")
            try await manager.withClient { client in
                let task = try await client.createTask()
                let statuses = try await Self.concurrentStarts(client, taskID: task.id, count: 100)
                #expect(statuses.filter { $0 == 200 }.count == 1)
                #expect(statuses.filter { $0 == 409 }.count == 99, "\(statuses)")
                #expect(Self.startCommands(manager.pubsub, manager.topics) == 1)
                #expect(try await store.task(id: task.id)?.state == .running)
            }
        }
    }

    @Test("100 concurrent starts through two managers on one SQLite file: one 200, one start command")
    func concurrentStartsTwoStores() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("shared.db").path
            let first = TestManager(store: try SQLiteStore(path: path, logger: .quiet))
            let second = TestManager(store: try SQLiteStore(path: path, logger: .quiet))
            try await first.addProplet(id: "p1")
            try await first.withClient { firstClient in
                let task = try await firstClient.createTask()
                try await second.withClient { secondClient in
                    #expect(try await secondClient.send("/tasks/\(task.id)", .get).status == .ok)
                    async let one = Self.concurrentStarts(firstClient, taskID: task.id, count: 50)
                    async let two = Self.concurrentStarts(secondClient, taskID: task.id, count: 50)
                    let statuses = try await one + two
                    #expect(statuses.filter { $0 == 200 }.count == 1)
                    #expect(statuses.filter { $0 == 409 }.count == 99, "\(statuses)")
                }
                let commands =
                    Self.startCommands(first.pubsub, first.topics) + Self.startCommands(second.pubsub, second.topics)
                #expect(commands == 1)
            }
        }
    }

    @Test(
        "a result applied twice, or from another proplet, changes nothing the second time",
        arguments: StoreKind.allCases
    )
    func resultsOnce(store kind: StoreKind) async throws {
        let manager = TestManager(store: try kind.make())
        try await manager.addProplet(id: "p1")
        try await manager.addProplet(id: "p2")
        let tasks = manager.components.tasks
        let task = try await tasks.create(try TaskRequest(json: Data(taskBody().utf8)))
        _ = try await tasks.start(id: task.id, propletID: "p1")
        let result = TaskResult(taskID: task.id, propletID: "p1", state: .completed, results: "3", exitCode: 0)
        #expect(try await tasks.apply(result).isApplied)
        manager.time.advance(seconds: 5)
        let once = try #require(try await manager.store.task(id: task.id))

        var again = result
        again.results = "4"
        again.state = .failed
        #expect(try await tasks.apply(again) == .alreadyFinished(once))
        var foreign = result
        foreign.propletID = "p2"
        #expect(try await tasks.apply(foreign) == .notAssigned(once))
        #expect(try await manager.store.task(id: task.id) == once)
    }

    @Test("the liveness timer marks a silent proplet lost on a manual clock")
    func livenessOnManualClock() async throws {
        let started = ContinuousClock.now
        let clock = ManualClock()
        let manager = TestManager(clock: clock) {
            $0.propletTimeoutSeconds = 30
            $0.livenessCheckIntervalSeconds = 1
        }
        try await manager.addProplet(id: "p1")
        let task = try await manager.components.tasks.create(try TaskRequest(json: Data(taskBody().utf8)))
        _ = try await manager.components.tasks.start(id: task.id, propletID: "p1")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await manager.components.liveness.run() }
            try await clock.waitForSleepers(1)
            manager.time.advance(seconds: 31)
            clock.advance(by: .seconds(1))
            try await eventually(timeout: .seconds(1)) {
                try await manager.store.task(id: task.id)?.error == "proplet lost"
            }
            #expect(try await manager.store.proplet(id: "p1")?.alive == false)
            group.cancelAll()
        }
        #expect(ContinuousClock.now - started < .seconds(1))
    }

    @Test("the retention timer drops old samples on a manual clock")
    func retentionOnManualClock() async throws {
        let started = ContinuousClock.now
        let clock = ManualClock()
        let manager = TestManager(clock: clock) {
            $0.retentionMaxAgeSeconds = 60
            $0.retentionIntervalSeconds = 60
        }
        let samples = (0..<10).map { index in
            TaskSample(
                taskID: "t1",
                propletID: "p1",
                metrics: ProcessMetrics(cpuPercent: 1),
                aggregated: nil,
                timestamp: TestManager.epoch.adding(seconds: Double(index))
            )
        }
        try await manager.store.insertTaskSamples(samples)
        func count() async throws -> Int {
            try await manager.store.taskSamples(taskID: "t1", range: .all, order: .ascending, page: Page()).total
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await manager.components.retention.run() }
            // The first pass runs at start: nothing is a minute old yet.
            try await clock.waitForSleepers(1)
            #expect(try await count() == 10)
            manager.time.advance(seconds: 65)
            clock.advance(by: .seconds(60))
            try await eventually(timeout: .seconds(1)) { try await count() == 5 }
            group.cancelAll()
        }
        #expect(ContinuousClock.now - started < .seconds(1))
    }

    @Test("Feb 30 in from= or to= is a 400 naming the field")
    func february30InQuery() async throws {
        let manager = TestManager()
        try await manager.addProplet(id: "p1")
        try await manager.withClient { client in
            let task = try await client.createTask()
            for name in ["from", "to"] {
                for path in ["/tasks/\(task.id)/metrics", "/proplets/p1/metrics"] {
                    let response = try await client.send("\(path)?\(name)=2025-02-30T00:00:00Z", .get)
                    #expect(response.status == .badRequest)
                    #expect(
                        response.errorMessage?.hasPrefix("\(name) must be") == true,
                        "\(response.errorMessage ?? "")"
                    )
                }
            }
        }
    }
}
