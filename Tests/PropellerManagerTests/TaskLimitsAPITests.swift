import Foundation
import HummingbirdTesting
import PropellerCore
import PropellerMQTT
import Testing

@testable import PropellerManager

@Suite("Task API: limits")
struct TaskLimitsAPITests {
    @Test(
        "limits in POST /tasks are stored, returned by GET /tasks/{id} and sent in the start command",
        arguments: StoreKind.allCases
    )
    func limitsRoundTrip(store: StoreKind) async throws {
        let manager = TestManager(store: try store.make())
        try await manager.withClient { client in
            let body = taskBody(
                extra: #""limits": {"memory_bytes": 67108864, "cpu_seconds": 10, "timeout_seconds": 30}"#
            )
            let created = try await client.createTask(body)
            let expected = TaskLimits(memoryBytes: 67_108_864, cpuSeconds: 10, timeoutSeconds: 30)
            #expect(created.limits == expected)
            let fetched = try await client.send("/tasks/\(created.id)", .get)
            #expect(
                try fetched.json["limits"]
                    == .object([
                        "memory_bytes": .integer(67_108_864), "cpu_seconds": .integer(10),
                        "timeout_seconds": .integer(30),
                    ])
            )
            #expect(try await manager.store.task(id: created.id)?.limits == expected)

            try await manager.addProplet(id: "p1")
            #expect(try await client.send("/tasks/\(created.id)/start", .post).status == .ok)
            let message = try #require(
                manager.pubsub.publishedMessages.last {
                    $0.topic == manager.topics.topic(.managerStart, propletID: "p1")
                }
            )
            #expect(try WireCoding.decode(StartCommand.self, from: message.payload).limits == expected)
        }
    }

    @Test("a task without limits returns them all as null", arguments: StoreKind.allCases)
    func noLimits(store: StoreKind) async throws {
        let manager = TestManager(store: try store.make())
        try await manager.withClient { client in
            let created = try await client.createTask(taskBody(extra: #""limits": {"cpu_seconds": 5}"#))
            let json = try await client.send("/tasks/\(created.id)", .get).json
            #expect(
                json["limits"]
                    == .object(["memory_bytes": .null, "cpu_seconds": .integer(5), "timeout_seconds": .null])
            )
            let plain = try await client.createTask()
            #expect(plain.limits == .none)
            #expect(try await client.send("/tasks/\(plain.id)", .get).json["limits"]?["memory_bytes"] == .null)
        }
    }

    @Test(
        "invalid limits are 400 naming the field and what is accepted",
        arguments: [
            (#""limits": {"memory_bytes": 0}"#, "limits.memory_bytes must be an integer number of bytes from 1048576"),
            (#""limits": {"memory_bytes": "64MiB"}"#, "limits.memory_bytes must be an integer"),
            (#""limits": {"cpu_seconds": 2.5}"#, "limits.cpu_seconds must be an integer number of seconds from 1"),
            (#""limits": {"timeout_seconds": -1}"#, "limits.timeout_seconds must be an integer number of seconds"),
            (#""limits": {"wall_seconds": 3}"#, "unknown key \"limits.wall_seconds\"; accepted keys: memory_bytes"),
            (#""limits": 64"#, "limits must be an object with memory_bytes, cpu_seconds and/or timeout_seconds"),
        ]
    )
    func invalidLimits(extra: String, message: String) async throws {
        let manager = TestManager()
        try await manager.withClient { client in
            let response = try await client.send("/tasks", .post, body: taskBody(extra: extra))
            #expect(response.status == .badRequest)
            #expect(response.errorMessage?.hasPrefix(message) == true, "\(response.errorMessage ?? "")")
        }
    }
}
