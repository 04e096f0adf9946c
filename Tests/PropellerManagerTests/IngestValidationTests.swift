import Foundation
import HummingbirdTesting
import PropellerCore
import PropellerMQTT
import Testing

@testable import PropellerManager

@Suite("What the manager accepts (SPEC §2)")
struct IngestValidationTests {
    struct BadInput: Sendable, CustomTestStringConvertible {
        var name: String
        var reason: String
        /// The topic suffix after the base, and the payload; `{task}` is the running task's id.
        var topic: String
        var payload: String
        var testDescription: String { name }
    }

    static func sample(task: String = "{task}", proplet: String = "p1", metrics: String, at time: String) -> String {
        #"{"task_id": "\#(task)", "proplet_id": "\#(proplet)", "metrics": {\#(metrics)}, "timestamp": "\#(time)", "seq": 9}"#
    }

    static let now = "2025-01-15T10:00:00.000000Z"
    static let inputs: [BadInput] = [
        .init(
            name: "unknown task",
            reason: "unknown_task",
            topic: "control/proplet/task_metrics",
            payload: sample(task: "0c8e8f3e-0000-4000-8000-000000000000", metrics: #""cpu_percent": 1"#, at: now)
        ),
        .init(
            name: "another proplet's task",
            reason: "not_assigned",
            topic: "control/proplet/task_metrics",
            payload: sample(proplet: "p2", metrics: #""cpu_percent": 1"#, at: now)
        ),
        .init(
            name: "cpu_percent 1e308",
            reason: "out_of_range",
            topic: "control/proplet/task_metrics",
            payload: sample(metrics: #""cpu_percent": 1e308"#, at: now)
        ),
        .init(
            name: "cpu_percent above 110 % of 2 cores",
            reason: "out_of_range",
            topic: "control/proplet/task_metrics",
            payload: sample(metrics: #""cpu_percent": 221"#, at: now)
        ),
        .init(
            name: "memory_percent above 100",
            reason: "out_of_range",
            topic: "control/proplet/task_metrics",
            payload: sample(metrics: #""memory_percent": 100.5"#, at: now)
        ),
        .init(
            name: "dated 1970",
            reason: "timestamp_out_of_window",
            topic: "control/proplet/task_metrics",
            payload: sample(metrics: #""cpu_percent": 1"#, at: "1970-01-01T00:00:00Z")
        ),
        .init(
            name: "dated 2099",
            reason: "timestamp_out_of_window",
            topic: "control/proplet/task_metrics",
            payload: sample(metrics: #""cpu_percent": 1"#, at: "2099-01-01T00:00:00Z")
        ),
        .init(
            name: "a non-UTC offset",
            reason: "undecodable",
            topic: "control/proplet/task_metrics",
            payload: sample(metrics: #""cpu_percent": 1"#, at: "2025-01-15T12:00:00+02:00")
        ),
        .init(
            name: "NaN",
            reason: "undecodable",
            topic: "control/proplet/task_metrics",
            payload: sample(metrics: #""cpu_percent": NaN"#, at: now)
        ),
        .init(
            name: "a negative counter",
            reason: "undecodable",
            topic: "control/proplet/task_metrics",
            payload: sample(metrics: #""thread_count": -1"#, at: now)
        ),
        .init(
            name: "another proplet's id on a per-proplet topic",
            reason: "identity_mismatch",
            topic: "control/proplet/p2/alive",
            payload: #"{"proplet_id": "p1", "status": "offline", "running_tasks": 0}"#
        ),
        .init(
            name: "results from another proplet",
            reason: "not_assigned",
            topic: "control/proplet/p2/results",
            payload: #"{"task_id": "{task}", "proplet_id": "p2", "state": "completed", "seq": 1}"#
        ),
        .init(
            name: "a proplet sample from an unregistered proplet",
            reason: "unregistered_proplet",
            topic: "control/proplet/metrics",
            payload:
                #"{"proplet_id": "ghost", "timestamp": "\#(now)", "metrics": {}, "host": {"cpu_percent": 1, "memory_total_bytes": 10, "memory_used_bytes": 1, "load_1m": 0}, "seq": 1}"#
        ),
    ]

    @Test(
        "each bad input is dropped and counted by reason; no row is created; every query answers 200",
        arguments: inputs
    )
    func badInput(input: BadInput) async throws {
        for kind in StoreKind.allCases {
            let manager = TestManager(store: try kind.make())
            try await manager.addProplet(id: "p1")
            try await manager.addProplet(id: "p2")
            let tasks = manager.components.tasks
            let task = try await tasks.create(try TaskRequest(json: Data(taskBody(extra: #""daemon": true"#).utf8)))
            _ = try await tasks.start(id: task.id, propletID: "p1")
            try await IngestionTests().withIngestion(manager) {
                try await manager.pubsub.publish(
                    manager.topics.base + input.topic,
                    payload: Array(input.payload.replacing("{task}", with: task.id).utf8),
                    qos: .atLeastOnce,
                    retain: false
                )
                try await eventually {
                    String(decoding: manager.components.metrics.exposition(), as: UTF8.self)
                        .contains(#"propeller_ingest_messages_dropped_total{reason="\#(input.reason)"} 1"#)
                }
            }
            let samples = try await manager.store.taskSamples(
                taskID: task.id,
                range: .all,
                order: .ascending,
                page: Page()
            )
            #expect(samples.total == 0, "\(kind): a row was created")
            #expect(try await manager.store.task(id: task.id)?.state == .running, "\(kind): the task changed")
            #expect(try await manager.store.proplet(id: "ghost") == nil)
            #expect(try await manager.store.proplet(id: "p1")?.alive == true)
            try await manager.withClient { client in
                for path in ["/tasks/\(task.id)/metrics", "/tasks", "/proplets", "/tasks/\(task.id)", "/metrics"] {
                    let response = try await client.execute(uri: path, method: .get)
                    #expect(response.status == .ok, "\(kind) GET \(path)")
                }
            }
        }
    }

    @Test("extreme values already stored never make a metrics query fail", arguments: StoreKind.allCases)
    func extremeStoredValues(kind: StoreKind) async throws {
        let manager = TestManager(store: try kind.make())
        let tasks = manager.components.tasks
        try await manager.addProplet(id: "p1")
        let task = try await tasks.create(try TaskRequest(json: Data(taskBody().utf8)))
        let samples = (0..<2).map { index in
            TaskSample(
                taskID: task.id,
                propletID: "p1",
                metrics: ProcessMetrics(
                    cpuPercent: 1e308,
                    memoryBytes: .max,
                    memoryPercent: 1e308,
                    diskReadBytes: .max
                ),
                aggregated: nil,
                timestamp: TestManager.epoch.adding(seconds: Double(index))
            )
        }
        try await manager.store.insertTaskSamples(samples)
        try await manager.withClient { client in
            let response = try await client.execute(uri: "/tasks/\(task.id)/metrics", method: .get)
            #expect(response.status == .ok)
        }
    }
}
