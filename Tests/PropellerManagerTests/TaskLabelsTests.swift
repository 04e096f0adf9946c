import Foundation
import HummingbirdTesting
import PropellerCore
import Synchronization
import Testing

@testable import PropellerManager

/// SPEC §4 `labels`: accepted on `POST /tasks`, returned on every read, exported on `propeller_task_info`.
@Suite("Task labels")
struct TaskLabelsTests {
    @Test("labels are stored (SQLite, across a reopen), returned, and carried by propeller_task_info as label_<key>")
    func labelsRoundTripAndExport() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("labels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("m.db").path
        let manager = TestManager(store: try SQLiteStore(path: path, logger: .quiet))
        try await manager.addProplet(id: "p1")
        let created = Mutex("")
        try await manager.withClient { client in
            let task = try await client.createTask(
                taskBody(extra: #""labels": {"team": "edge", "_tier2": "gold \"plus\""}"#)
            )
            #expect(task.labels == ["team": "edge", "_tier2": #"gold "plus""#])
            try await client.send("/tasks/\(task.id)/start", .post)
            let sample = TaskSample(
                taskID: task.id,
                propletID: "p1",
                metrics: ProcessMetrics(cpuPercent: 5, memoryBytes: 1024),
                aggregated: nil,
                timestamp: TestManager.epoch
            )
            await manager.components.metrics.updateTaskGauges(from: [sample]) { id in
                try? await manager.store.task(id: id)
            }
            let text = String(buffer: try await client.send("/metrics", .get).body)
            let info = try #require(
                text.split(separator: "\n").first { $0.hasPrefix("propeller_task_info{") },
                "propeller_task_info present: \(text)"
            )
            #expect(info.contains(#"label__tier2="gold \"plus\"""#), "\(info)")
            #expect(info.contains(#"label_team="edge""#), "\(info)")
            #expect(info.contains(#"task_id="\#(task.id)""#) && info.hasSuffix(" 1"), "\(info)")
            created.withLock { $0 = task.id }
        }
        let id = created.withLock { $0 }
        // A fresh manager on the same file (another process, or this one restarted) learns the labels from
        // the store the first time a sample of the running task arrives.
        let reopened = TestManager(store: try SQLiteStore(path: path, logger: .quiet))
        let stored = try #require(try await reopened.store.task(id: id))
        #expect(stored.labels == ["team": "edge", "_tier2": #"gold "plus""#])
        await reopened.components.metrics.updateTaskGauges(
            from: [
                TaskSample(
                    taskID: id,
                    propletID: "p1",
                    metrics: ProcessMetrics(cpuPercent: 5),
                    aggregated: nil,
                    timestamp: TestManager.epoch
                )
            ]
        ) { id in try? await reopened.store.task(id: id) }
        let text = String(decoding: reopened.components.metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"label_team="edge""#), "\(text)")
    }

    @Test(
        "bad labels are 400 naming labels and what is accepted",
        arguments: [
            (#""labels": ["a"]"#, "labels"),
            (#""labels": {"Team": "x"}"#, "[a-z_][a-z0-9_]*"),
            (#""labels": {"9lives": "x"}"#, "[a-z_][a-z0-9_]*"),
            (#""labels": {"team-name": "x"}"#, "[a-z_][a-z0-9_]*"),
            (#""labels": {"": "x"}"#, "[a-z_][a-z0-9_]*"),
            (#""labels": {"team": 3}"#, "labels.team"),
            (#""labels": {"team": null}"#, "labels.team"),
            (
                #""labels": {"# + (0..<17).map { #""k\#($0)": "v""# }.joined(separator: ", ") + "}",
                "at most 16"
            ),
        ]
    )
    func badLabels(extra: String, mentions: String) async throws {
        try await TestManager().withClient { client in
            let response = try await client.send("/tasks", .post, body: taskBody(extra: extra))
            #expect(response.status == .badRequest)
            let message = String(buffer: response.body)
            #expect(message.contains("labels") && message.contains(mentions), "\(message)")
        }
    }

    @Test("16 labels and no labels are accepted; a task without labels has an empty object")
    func limits() async throws {
        try await TestManager().withClient { client in
            let sixteen = (0..<16).map { #""k\#($0)": "v""# }.joined(separator: ", ")
            #expect(try await client.createTask(taskBody(extra: #""labels": {\#(sixteen)}"#)).labels.count == 16)
            let plain = try await client.send("/tasks", .post, body: taskBody())
            let json = try WireCoding.decode(JSONValue.self, from: Data(buffer: plain.body))
            #expect(json["labels"] == .object([:]), "\(json)")
        }
    }
}
