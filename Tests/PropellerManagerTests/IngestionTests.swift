import Foundation
import PropellerCore
import PropellerMQTT
import Testing

@testable import PropellerManager

@Suite("Ingestion and liveness")
struct IngestionTests {
    /// Runs the ingestion service for the duration of `body`.
    func withIngestion(_ manager: TestManager, _ body: () async throws -> Void) async throws {
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let service = IngestionService(
            tasks: manager.components.tasks,
            registry: manager.components.registry,
            store: manager.store,
            metrics: manager.components.metrics,
            pubsub: manager.pubsub,
            topics: manager.topics,
            batchSize: 50,
            flushInterval: .milliseconds(5),
            logger: manager.components.logger,
            onSubscribed: { readyContinuation.yield() }
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            for await _ in ready { break }
            try await body()
            group.cancelAll()
        }
    }

    func publish(_ manager: TestManager, _ kind: Topics.Kind, _ text: String, proplet: String = "p1") async throws {
        try await manager.pubsub.publish(
            manager.topics.topic(kind, propletID: proplet),
            payload: Array(text.utf8),
            qos: .atLeastOnce,
            retain: false
        )
    }

    func sample(_ taskID: String, second: Double, cpu: Double = 10) -> TaskSample {
        TaskSample(
            taskID: taskID,
            propletID: "p1",
            metrics: ProcessMetrics(cpuPercent: cpu, memoryBytes: 4096, threadCount: 1, fileDescriptorCount: 3),
            aggregated: nil,
            timestamp: TestManager.epoch.adding(seconds: second)
        )
    }

    /// A task started on the registered proplet `p1`; its samples are then accepted.
    func runningTask(_ manager: TestManager) async throws -> String {
        try await manager.addProplet(id: "p1")
        let tasks = manager.components.tasks
        let task = try await tasks.create(try TaskRequest(json: Data(taskBody().utf8)))
        _ = try await tasks.start(id: task.id, propletID: "p1")
        return task.id
    }

    @Test("malformed payloads are dropped and counted; valid samples after them are stored")
    func malformed() async throws {
        let manager = TestManager()
        let t1 = try await runningTask(manager)
        try await withIngestion(manager) {
            let bad = [
                "", "not json", "[]", "{}", #"{"task_id": 5}"#,
                #"{"task_id": "t", "proplet_id": "p", "metrics": {"cpu_percent": -1}, "timestamp": "2025-01-15T10:00:00Z"}"#,
                #"{"task_id": "t", "proplet_id": "p", "metrics": {}, "timestamp": 1736935200}"#,
                String(repeating: "[", count: 10_000),
            ]
            for payload in bad { try await publish(manager, .propletTaskMetrics, payload) }
            try await publish(manager, .propletAlive, #"{"proplet_id": "p1", "status": "sleeping"}"#)
            try await publish(manager, .propletResults, #"{"task_id": "t", "proplet_id": "p1", "state": "running"}"#)
            try await manager.pubsub.publish(
                manager.topics.topic(.propletTaskMetrics),
                json: sample(t1, second: 1),
                qos: .atLeastOnce
            )
            try await eventually {
                (try? await manager.store.taskSamples(taskID: t1, range: .all, order: .ascending, page: Page()).total)
                    == 1
            }
            try await manager.pubsub.publish(
                manager.topics.base + "control/proplet/unknown",
                payload: [],
                qos: .atLeastOnce,
                retain: false
            )
            try await eventually {
                String(decoding: manager.components.metrics.exposition(), as: UTF8.self)
                    .contains(#"propeller_ingest_messages_dropped_total{reason="unexpected_topic"} 1"#)
            }
            let text = String(decoding: manager.components.metrics.exposition(), as: UTF8.self)
            #expect(text.contains(#"propeller_ingest_messages_dropped_total{reason="undecodable"} 10"#), "\(text)")
            #expect(text.contains(#"propeller_ingest_samples_stored_total{kind="task"} 1"#))
        }
    }

    @Test("samples keep their timestamps and a repeated (task, timestamp) is stored once")
    func dedupe() async throws {
        let manager = TestManager()
        let t1 = try await runningTask(manager)
        try await withIngestion(manager) {
            for second in [1.0, 2.0, 2.0, 3.0] {
                try await manager.pubsub.publish(
                    manager.topics.topic(.propletTaskMetrics),
                    json: sample(t1, second: second),
                    qos: .atLeastOnce
                )
            }
            try await eventually {
                (try? await manager.store.taskSamples(taskID: t1, range: .all, order: .ascending, page: Page()).total)
                    == 3
            }
            let stored = try await manager.store.taskSamples(taskID: t1, range: .all, order: .ascending, page: Page())
            #expect(stored.items.map(\.timestamp) == [1.0, 2, 3].map { TestManager.epoch.adding(seconds: $0) })
        }
    }

    @Test("registration and heartbeats keep the registry; results update the task and store the final sample")
    func registryAndResults() async throws {
        let manager = TestManager()
        try await withIngestion(manager) {
            let registration = #"""
                {"proplet_id": "p1", "name": "edge", "metadata": {"hostname": "h", "os": "linux", "arch": "x86_64",
                 "cpu_count": 2, "total_memory_bytes": 1024, "version": "0.1.0", "wasm_runtime": "wasmkit"}}
                """#
            try await publish(manager, .propletCreate, registration)
            try await eventually { (try? await manager.store.proplet(id: "p1"))?.alive == true }
            #expect(try await manager.store.proplet(id: "p1")?.name == "edge")

            let task = try await manager.components.tasks.create(try TaskRequest(json: Data(taskBody().utf8)))
            _ = try await manager.components.tasks.start(id: task.id, propletID: nil)
            try await manager.pubsub.publish(
                manager.topics.topic(.propletTaskMetrics),
                json: sample(task.id, second: 1, cpu: 55),
                qos: .atLeastOnce
            )
            try await eventually {
                String(decoding: manager.components.metrics.exposition(), as: UTF8.self)
                    .contains(#"propeller_task_cpu_percent{task_id="\#(task.id)",task_name="add",proplet_id="p1"} 55"#)
            }
            let final = FinalMetrics(
                metrics: ProcessMetrics(cpuPercent: 20, memoryBytes: 8192),
                aggregated: AggregatedMetrics(avgCPUUsage: 37, maxCPUUsage: 55, sampleCount: 2),
                timestamp: TestManager.epoch.adding(seconds: 2)
            )
            let result = TaskResult(
                taskID: task.id,
                propletID: "p1",
                state: .completed,
                results: "3",
                exitCode: 0,
                startedAt: TestManager.epoch,
                finishedAt: TestManager.epoch.adding(seconds: 2),
                finalMetrics: final
            )
            try await manager.pubsub.publish(
                manager.topics.topic(.propletResults, propletID: "p1"),
                json: result,
                qos: .atLeastOnce
            )
            try await eventually { (try? await manager.store.task(id: task.id))?.state == .completed }
            let stored = try #require(try await manager.store.task(id: task.id))
            #expect(stored.results == "3")
            #expect(stored.exitCode == 0)
            #expect(stored.startedAt == TestManager.epoch)
            #expect(stored.finishedAt == TestManager.epoch.adding(seconds: 2))
            let samples = try await manager.store.taskSamples(
                taskID: task.id,
                range: .all,
                order: .ascending,
                page: Page()
            )
            #expect(samples.items.map(\.timestamp) == [1.0, 2].map { TestManager.epoch.adding(seconds: $0) })
            let text = String(decoding: manager.components.metrics.exposition(), as: UTF8.self)
            #expect(!text.contains("propeller_task_cpu_percent{"), "finished task series must be removed")

            // The final sample also arrives on task_metrics: stored once.
            try await manager.pubsub.publish(
                manager.topics.topic(.propletTaskMetrics),
                json: TaskSample(
                    taskID: task.id,
                    propletID: "p1",
                    metrics: final.metrics,
                    aggregated: nil,
                    timestamp: final.timestamp
                ),
                qos: .atLeastOnce
            )
            try await publish(manager, .propletAlive, #"{"proplet_id": "p1", "status": "offline", "running_tasks": 0}"#)
            try await eventually { (try? await manager.store.proplet(id: "p1"))?.alive == false }
            #expect(
                try await manager.store.taskSamples(taskID: task.id, range: .all, order: .ascending, page: Page()).total
                    == 2
            )
        }
    }

    @Test("a silent proplet turns not alive after the timeout and its running task fails with proplet lost")
    func liveness() async throws {
        let manager = TestManager { $0.propletTimeoutSeconds = 30 }
        let registry = manager.components.registry
        try await registry.register(PropletRegistration(propletID: "p1", name: "p1", metadata: TestManager.metadata))
        try await registry.heartbeat(
            PropletHeartbeat(propletID: "p1", status: .alive, runningTasks: 0, timestamp: .now())
        )
        try await registry.heartbeat(
            PropletHeartbeat(propletID: "p2", status: .alive, runningTasks: 0, timestamp: .now())
        )
        let tasks = manager.components.tasks
        let task = try await tasks.create(try TaskRequest(json: Data(taskBody().utf8)))
        _ = try await tasks.start(id: task.id, propletID: "p1")

        manager.time.advance(seconds: 20)
        try await registry.heartbeat(
            PropletHeartbeat(propletID: "p2", status: .alive, runningTasks: 0, timestamp: .now())
        )
        #expect(try await registry.sweep().isEmpty)
        manager.time.advance(seconds: 11)
        #expect(try await registry.sweep() == ["p1"])
        #expect(try await manager.store.proplet(id: "p1")?.alive == false)
        #expect(try await manager.store.proplet(id: "p2")?.alive == true)
        let failed = try #require(try await manager.store.task(id: task.id))
        #expect(failed.state == .failed)
        #expect(failed.error == "proplet lost")
        #expect(failed.finishedAt == manager.time.now())

        // A heartbeat brings it back.
        try await registry.heartbeat(
            PropletHeartbeat(propletID: "p1", status: .alive, runningTasks: 0, timestamp: .now())
        )
        #expect(try await manager.store.proplet(id: "p1")?.alive == true)
    }

    @Test("the last will marks the proplet not alive at once; its tasks fail only after the timeout")
    func lastWill() async throws {
        let manager = TestManager { $0.propletTimeoutSeconds = 30 }
        let registry = manager.components.registry
        try await registry.register(PropletRegistration(propletID: "p1", name: "p1", metadata: TestManager.metadata))
        try await registry.heartbeat(
            PropletHeartbeat(propletID: "p1", status: .alive, runningTasks: 1, timestamp: .now())
        )
        let tasks = manager.components.tasks
        let task = try await tasks.create(try TaskRequest(json: Data(taskBody(extra: #""daemon": true"#).utf8)))
        _ = try await tasks.start(id: task.id, propletID: nil)
        try await registry.heartbeat(
            PropletHeartbeat(propletID: "p1", status: .offline, runningTasks: 0, timestamp: .now())
        )
        #expect(try await manager.store.proplet(id: "p1")?.alive == false)
        #expect(try await manager.store.task(id: task.id)?.state == .running, "a will alone fails nothing")
        await #expect(throws: ManagerError.self) {
            try await tasks.start(
                id: try await tasks.create(try TaskRequest(json: Data(taskBody().utf8))).id,
                propletID: nil
            )
        }
        manager.time.advance(seconds: 29)
        #expect(try await registry.sweep().isEmpty)
        #expect(try await manager.store.task(id: task.id)?.state == .running)
        manager.time.advance(seconds: 2)
        #expect(try await registry.sweep() == ["p1"])
        #expect(try await manager.store.task(id: task.id)?.error == "proplet lost")
    }

    @Test("results from another proplet or for an unknown task are dropped")
    func foreignResults() async throws {
        let manager = TestManager()
        try await manager.addProplet(id: "p1")
        let tasks = manager.components.tasks
        let task = try await tasks.create(try TaskRequest(json: Data(taskBody().utf8)))
        _ = try await tasks.start(id: task.id, propletID: "p1")
        #expect(try await !tasks.apply(TaskResult(taskID: task.id, propletID: "p2", state: .completed)).isApplied)
        #expect(
            try await !tasks.apply(
                TaskResult(taskID: UUID().uuidString.lowercased(), propletID: "p1", state: .failed)
            ).isApplied
        )
        #expect(try await manager.store.task(id: task.id)?.state == .running)
    }
}

/// Polls `condition` until it holds (at most `timeout`).
func eventually(
    timeout: Duration = .seconds(10),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    throw TestFailure("condition not met within \(timeout)")
}

@Suite("Liveness after a restart")
struct RestartLivenessTests {
    @Test("a restarted manager gives stored proplets a full timeout before declaring them lost")
    func graceAfterRestart() async throws {
        let store = InMemoryStore()
        let stale = Proplet(
            id: "p1",
            name: "p1",
            alive: true,
            lastSeen: TestManager.epoch.adding(seconds: -3600),
            runningTasks: 1,
            metadata: nil
        )
        try await store.seed(stale)
        let manager = TestManager(store: store) { $0.propletTimeoutSeconds = 30 }
        #expect(try await manager.components.registry.sweep().isEmpty)
        manager.time.advance(seconds: 29)
        #expect(try await manager.components.registry.sweep().isEmpty)
        manager.time.advance(seconds: 2)
        #expect(try await manager.components.registry.sweep() == ["p1"])
    }
}
