import Foundation
import HummingbirdTesting
import PropellerCore
import Testing

@testable import PropellerManager

@Suite("Proplet and system API")
struct PropletAPITests {
    @Test("GET /proplets lists registered proplets with the SPEC keys; GET /proplets/{id} reads one")
    func listProplets() async throws {
        let manager = TestManager()
        let metadata = PropletMetadata(
            hostname: "h",
            os: "linux",
            arch: "x86_64",
            cpuCount: 2,
            totalMemoryBytes: 1 << 30,
            version: "0.1.0",
            wasmRuntime: "wasmkit"
        )
        try await manager.components.registry.register(
            PropletRegistration(propletID: "p1", name: "one", metadata: metadata)
        )
        try await manager.addProplet(id: "p2")
        try await manager.withClient { client in
            let list = try await client.send("/proplets?limit=1", .get)
            #expect(list.status == .ok)
            let json = try list.json
            #expect(json["total"] == .integer(2))
            #expect(json["offset"] == .integer(0))
            #expect(json["limit"] == .integer(1))
            let one = try await client.send("/proplets/p1", .get).json
            #expect(Set(one.keys) == ["id", "name", "alive", "last_seen", "running_tasks", "metadata"])
            #expect(one["alive"] == .bool(true))
            #expect(one["name"] == .string("one"))
            #expect(one["last_seen"] == .string(TestManager.epoch.rfc3339))
            guard case .object(let meta)? = one["metadata"] else { throw TestFailure("no metadata") }
            #expect(meta["wasm_runtime"] == .string("wasmkit"))
            #expect(try await client.send("/proplets/nope", .get).status == .notFound)
            #expect(try await client.send("/proplets?limit=0", .get).status == .badRequest)
            #expect(try await client.send("/proplets?limit=1001", .get).status == .badRequest)
            #expect(try await client.send("/proplets?state=x", .get).status == .badRequest)
        }
    }

    @Test("DELETE /proplets/{id}: 409 while it runs a task, 204 after, then 404")
    func deleteProplet() async throws {
        let manager = TestManager()
        try await manager.addProplet(id: "p1")
        try await manager.withClient { client in
            let task = try await client.createTask()
            try await client.send("/tasks/\(task.id)/start", .post)
            let busy = try await client.send("/proplets/p1", .delete)
            #expect(busy.status == .conflict)
            #expect(busy.errorMessage?.contains("running") == true)
            try await manager.components.tasks.apply(
                TaskResult(taskID: task.id, propletID: "p1", state: .completed)
            )
            #expect(try await client.send("/proplets/p1", .delete).status == .noContent)
            #expect(try await client.send("/proplets/p1", .get).status == .notFound)
            #expect(try await client.send("/proplets/p1", .delete).status == .notFound)
        }
    }

    @Test("GET /proplets/{id}/metrics pages and filters proplet-level samples")
    func propletMetrics() async throws {
        let manager = TestManager()
        try await manager.addProplet(id: "p1")
        let samples = (0..<5).map { index in
            PropletSample(
                propletID: "p1",
                timestamp: TestManager.epoch.adding(seconds: Double(index)),
                metrics: ProcessMetrics(cpuPercent: 1, memoryBytes: 100),
                host: HostMetrics(cpuPercent: 5, memoryTotalBytes: 1000, memoryUsedBytes: 500, load1m: 0.5),
                runningTasks: index
            )
        }
        try await manager.store.insertPropletSamples(samples)
        try await manager.withClient { client in
            let response = try await client.send("/proplets/p1/metrics?order=desc&limit=2", .get)
            #expect(response.status == .ok)
            let json = try response.json
            #expect(json["proplet_id"] == .string("p1"))
            #expect(json["total"] == .integer(5))
            guard case .array(let items)? = json["metrics"], case .object(let first)? = items.first else {
                throw TestFailure("no samples")
            }
            #expect(items.count == 2)
            #expect(first["running_tasks"] == .integer(4))
            let from = TestManager.epoch.adding(seconds: 3).rfc3339
            #expect(try await client.send("/proplets/p1/metrics?from=\(from)", .get).json["total"] == .integer(2))
            let bad = try await client.send("/proplets/p1/metrics?from=\(from)&to=\(TestManager.epoch.rfc3339)", .get)
            #expect(bad.status == .badRequest)
            #expect(try await client.send("/proplets/p9/metrics", .get).status == .notFound)
        }
    }

    @Test("GET /health and /health/ready report status, version, MQTT and storage")
    func health() async throws {
        try await TestManager().withClient { client in
            let expected: [String: JSONValue] = [
                "status": .string("ok"), "version": .string(PropellerVersion.current), "mqtt": .string("connected"),
                "storage": .string("ok"),
            ]
            let response = try await client.send("/health", .get)
            #expect(response.status == .ok)
            #expect(try response.json == expected)
            let ready = try await client.send("/health/ready", .get)
            #expect(ready.status == .ok)
            #expect(try ready.json == expected)
            #expect(try await client.send("/health/ready?x=1", .get).status == .badRequest)
        }
    }
}
