import Foundation
import HummingbirdTesting
import PropellerCore
import PropellerMQTT
import Testing

@testable import PropellerManager

@Suite("Task API")
struct TaskAPITests {
    @Test(
        "POST /tasks returns 201 with Location, a lowercase UUID and the resolved profile",
        arguments: StoreKind.allCases
    )
    func createTask(store: StoreKind) async throws {
        let manager = TestManager(store: try store.make())
        try await manager.withClient { client in
            let response = try await client.send("/tasks", .post, body: taskBody(extra: #""inputs": [1, 2.5, "x"]"#))
            #expect(response.status == .created)
            let json = try response.json
            guard case .string(let id)? = json["id"] else { throw TestFailure("no id") }
            #expect(response.headers[.location] == "/tasks/\(id)")
            #expect(TaskID.isValid(id))
            #expect(json["state"] == .string("pending"))
            #expect(json["proplet_id"] == .null)
            #expect(json["results"] == .null)
            let stored = try #require(try await manager.store.task(id: id))
            #expect(stored.monitoringProfile == .standard)
            #expect(stored.inputs == [.integer(1), .number(2.5), .string("x")])
            for key in ["created_at", "updated_at", "started_at", "finished_at", "monitoring_profile", "error"] {
                #expect(json[key] != nil, "missing \(key)")
            }
        }
    }

    @Test("client fields id, state and results in a POST body are ignored", arguments: StoreKind.allCases)
    func serverFieldsIgnored(store: StoreKind) async throws {
        let manager = TestManager(store: try store.make())
        try await manager.withClient { client in
            let body = taskBody(
                extra:
                    #""id": "00000000-0000-0000-0000-000000000001", "state": "completed", "results": "42", "proplet_id": "p""#
            )
            let task = try await client.createTask(body)
            #expect(task.id != "00000000-0000-0000-0000-000000000001")
            #expect(task.state == .pending)
            #expect(task.results == nil)
            #expect(task.propletID == nil)
            #expect(try await manager.store.task(id: "00000000-0000-0000-0000-000000000001") == nil)
        }
    }

    @Test("a daemon task without a profile gets the daemon profile; a name picks a built-in; a partial overrides")
    func profiles() async throws {
        let manager = TestManager()
        try await manager.withClient { client in
            #expect(try await client.createTask(taskBody(extra: #""daemon": true"#)).monitoringProfile == .daemon)
            let named = try await client.createTask(taskBody(extra: #""monitoring_profile": "intensive""#))
            #expect(named.monitoringProfile == .intensive)
            let partial = try await client.createTask(taskBody(extra: #""monitoring_profile": {"interval": 5}"#))
            var expected = MonitoringProfile.standard
            expected.interval = 5
            #expect(partial.monitoringProfile == expected)
        }
    }

    @Test(
        "POST /tasks rejects bad bodies with 400 naming the field",
        arguments: [
            (taskBody(extra: #""monitoring_profile": {"interval": 0}"#), "interval"),
            (taskBody(extra: #""monitoring_profile": "turbo""#), "turbo"),
            (taskBody(extra: #""monitoring_profile": {"history_size": 10001}"#), "history_size"),
            (taskBody(extra: #""monitoring_profile": {"colour": true}"#), "colour"),
            (#"{"file": "AGFzbQEAAAA="}"#, "name"),
            (#"{"name": "add"}"#, "file or image_url"),
            (#"{"name": "add", "file": "AGFzbQEAAAA=", "image_url": "x"}"#, "image_url"),
            (#"{"name": "add", "file": "not base64!"}"#, "base64"),
            (taskBody(extra: #""inputs": [true]"#), "inputs[0]"),
            (taskBody(extra: #""env": {"A": 1}"#), "env.A"),
            (taskBody(extra: #""cli_args": "x""#), "cli_args"),
            (taskBody(extra: #""daemon": "yes""#), "daemon"),
            (taskBody(extra: #""priority": 3"#), "priority"),
            ("[1, 2]", "object"),
            ("{not json", "JSON"),
            ("", "empty"),
        ]
    )
    func badBodies(body: String, mention: String) async throws {
        let manager = TestManager()
        try await manager.withClient { client in
            let response = try await client.send("/tasks", .post, body: body)
            #expect(response.status == .badRequest)
            let message = try #require(response.errorMessage)
            #expect(message.contains(mention), "\(message)")
            #expect(try await manager.store.tasks(state: nil, page: Page()).total == 0)
        }
    }

    @Test("a non-JSON body is 415 and a 20 MiB body is 413")
    func mediaTypeAndSize() async throws {
        let manager = TestManager()
        try await manager.withClient { client in
            let plain = try await client.send("/tasks", .post, body: taskBody(), contentType: "text/plain")
            #expect(plain.status == .unsupportedMediaType)
            #expect(plain.errorMessage?.contains("application/json") == true)
            let none = try await client.send("/tasks", .post, body: taskBody(), contentType: nil)
            #expect(none.status == .unsupportedMediaType)
            let big = String(repeating: "A", count: 20 * 1024 * 1024)
            let large = try await client.send("/tasks", .post, body: #"{"name": "a", "file": "\#(big)"}"#)
            #expect(large.status == .contentTooLarge)
            #expect(large.errorMessage?.contains("limit") == true)
            let charset = try await client.send(
                "/tasks",
                .post,
                body: taskBody(),
                contentType: "application/json; charset=utf-8"
            )
            #expect(charset.status == .created)
        }
    }

    @Test("GET /tasks pages, filters by state and rejects bad parameters naming them", arguments: StoreKind.allCases)
    func listTasks(store: StoreKind) async throws {
        let manager = TestManager(store: try store.make())
        try await manager.withClient { client in
            var ids: [String] = []
            for index in 0..<5 {
                manager.time.advance(seconds: 1)
                ids.append(try await client.createTask(taskBody(name: "t\(index)")).id)
            }
            let page = try await client.send("/tasks?offset=1&limit=2", .get)
            #expect(page.status == .ok)
            let json = try page.json
            #expect(json["offset"] == .integer(1))
            #expect(json["limit"] == .integer(2))
            #expect(json["total"] == .integer(5))
            guard case .array(let tasks)? = json["tasks"] else { throw TestFailure("no tasks") }
            #expect(tasks.count == 2)
            let defaults = try await client.send("/tasks", .get).json
            #expect(defaults["limit"] == .integer(100))
            let running = try await client.send("/tasks?state=running", .get).json
            #expect(running["total"] == .integer(0))
            for (query, name) in [
                ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=x", "limit"), ("offset=-1", "offset"),
                ("state=done", "state"), ("colour=red", "colour"), ("limit=1&limit=2", "limit"),
            ] {
                let response = try await client.send("/tasks?\(query)", .get)
                #expect(response.status == .badRequest, "\(query)")
                #expect(response.errorMessage?.contains(name) == true, "\(query): \(response.errorMessage ?? "")")
            }
            #expect(try await client.send("/tasks?limit=1000", .get).status == .ok)
        }
    }

    @Test("GET /tasks/{id}: unknown and non-UUID ids are 404")
    func getTask() async throws {
        let manager = TestManager()
        try await manager.withClient { client in
            let task = try await client.createTask()
            let found = try await client.send("/tasks/\(task.id)", .get)
            #expect(found.status == .ok)
            #expect(try found.json["id"] == .string(task.id))
            for id in [UUID().uuidString.lowercased(), "not-a-uuid", task.id.uppercased(), "%00", "..%2F"] {
                let response = try await client.send("/tasks/\(id)", .get)
                #expect(response.status == .notFound, "\(id)")
                #expect(response.errorMessage?.contains("not found") == true)
            }
            #expect(try await client.send("/nowhere", .get).status == .notFound)
        }
    }

    @Test(
        "start: 503 without a live proplet, 200 and a start command with the resolved profile, 409 when running",
        arguments: StoreKind.allCases
    )
    func startTask(store: StoreKind) async throws {
        let manager = TestManager(store: try store.make())
        try await manager.withClient { client in
            let task = try await client.createTask(taskBody(extra: #""monitoring_profile": "batch""#))
            let none = try await client.send("/tasks/\(task.id)/start", .post)
            #expect(none.status == .serviceUnavailable)
            #expect(none.errorMessage?.contains("no live proplet") == true)
            try await manager.addProplet(id: "dead", alive: false)
            #expect(try await client.send("/tasks/\(task.id)/start", .post).status == .serviceUnavailable)

            try await manager.addProplet(id: "p1")
            let started = try await client.send("/tasks/\(task.id)/start", .post)
            #expect(started.status == .ok)
            #expect(try started.json["state"] == .string("running"))
            #expect(try started.json["proplet_id"] == .string("p1"))
            let message = try #require(manager.pubsub.publishedMessages.last)
            #expect(message.topic == manager.topics.topic(.managerStart, propletID: "p1"))
            #expect(message.qos == .atLeastOnce)
            let command = try WireCoding.decode(StartCommand.self, from: message.payload)
            #expect(command.id == task.id)
            #expect(command.propletID == "p1")
            #expect(command.monitoringProfile == .batch)
            #expect(command.file == task.file)

            let again = try await client.send("/tasks/\(task.id)/start", .post)
            #expect(again.status == .conflict)
            #expect(again.errorMessage?.contains("already running") == true)
            #expect(try await client.send("/tasks/\(UUID().uuidString.lowercased())/start", .post).status == .notFound)
        }
    }

    @Test("start with proplet_id: unknown → 404, not alive → 503, bad body → 400; round-robin otherwise")
    func startOnProplet() async throws {
        let manager = TestManager()
        try await manager.withClient { client in
            try await manager.addProplet(id: "a")
            try await manager.addProplet(id: "b")
            try await manager.addProplet(id: "off", alive: false)
            let task = try await client.createTask()
            let unknown = try await client.send("/tasks/\(task.id)/start", .post, body: #"{"proplet_id": "zzz"}"#)
            #expect(unknown.status == .notFound)
            #expect(unknown.errorMessage?.contains("zzz") == true)
            let off = try await client.send("/tasks/\(task.id)/start", .post, body: #"{"proplet_id": "off"}"#)
            #expect(off.status == .serviceUnavailable)
            #expect(off.errorMessage?.contains("not alive") == true)
            let bad = try await client.send("/tasks/\(task.id)/start", .post, body: #"{"node": "a"}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.errorMessage?.contains("node") == true)
            let text = try await client.send("/tasks/\(task.id)/start", .post, body: "a", contentType: "text/plain")
            #expect(text.status == .unsupportedMediaType)
            let chosen = try await client.send("/tasks/\(task.id)/start", .post, body: #"{"proplet_id": "b"}"#)
            #expect(try chosen.json["proplet_id"] == .string("b"))

            var assigned: [String] = []
            for _ in 0..<4 {
                let other = try await client.createTask()
                let response = try await client.send("/tasks/\(other.id)/start", .post)
                guard case .string(let proplet)? = try response.json["proplet_id"] else { throw TestFailure("none") }
                assigned.append(proplet)
            }
            #expect(Set(assigned) == ["a", "b"])
            #expect(assigned.filter { $0 == "a" }.count == 2)
        }
    }

    @Test(
        "stop publishes the stop command; the task stays running until the results say stopped",
        arguments: StoreKind.allCases
    )
    func stopTask(store: StoreKind) async throws {
        let manager = TestManager(store: try store.make())
        try await manager.withClient { client in
            try await manager.addProplet(id: "p1")
            let task = try await client.createTask()
            let notRunning = try await client.send("/tasks/\(task.id)/stop", .post)
            #expect(notRunning.status == .conflict)
            try await client.send("/tasks/\(task.id)/start", .post)
            let stop = try await client.send("/tasks/\(task.id)/stop", .post)
            #expect(stop.status == .ok)
            #expect(try stop.json["state"] == .string("running"))
            let message = try #require(manager.pubsub.publishedMessages.last)
            #expect(message.topic == manager.topics.topic(.managerStop, propletID: "p1"))
            #expect(
                try WireCoding.decode(StopCommand.self, from: message.payload)
                    == StopCommand(id: task.id, propletID: "p1")
            )

            try await manager.components.tasks.apply(TaskResult(taskID: task.id, propletID: "p1", state: .stopped))
            let results = try await client.send("/tasks/\(task.id)/results", .get)
            #expect(results.status == .ok)
            #expect(
                try results.json == [
                    "task_id": .string(task.id), "state": .string("stopped"), "results": .null, "error": .null,
                    "exit_code": .null,
                ]
            )
        }
    }

    @Test("DELETE /tasks/{id}: 409 while running, 204 otherwise, then 404", arguments: StoreKind.allCases)
    func deleteTask(store: StoreKind) async throws {
        let manager = TestManager(store: try store.make())
        try await manager.withClient { client in
            try await manager.addProplet(id: "p1")
            let task = try await client.createTask()
            try await client.send("/tasks/\(task.id)/start", .post)
            let running = try await client.send("/tasks/\(task.id)", .delete)
            #expect(running.status == .conflict)
            #expect(running.errorMessage?.contains("running") == true)
            try await manager.components.tasks.apply(
                TaskResult(taskID: task.id, propletID: "p1", state: .completed, results: "3", exitCode: 0)
            )
            #expect(try await client.send("/tasks/\(task.id)", .delete).status == .noContent)
            #expect(try await client.send("/tasks/\(task.id)", .get).status == .notFound)
            #expect(try await client.send("/tasks/\(task.id)", .delete).status == .notFound)
        }
    }

    @Test(
        "GET /tasks/{id}/metrics pages, orders, filters by time and aggregates; bad ranges are 400",
        arguments: StoreKind.allCases
    )
    func taskMetrics(store: StoreKind) async throws {
        let manager = TestManager(store: try store.make())
        try await manager.withClient { client in
            let task = try await client.createTask()
            let base = TestManager.epoch
            var samples: [TaskSample] = []
            for index in 0..<10 {
                let metrics = ProcessMetrics(cpuPercent: Double(index * 10), memoryBytes: Int64(1000 + index))
                let timestamp = base.adding(seconds: Double(index))
                samples.append(
                    TaskSample(
                        taskID: task.id,
                        propletID: "p1",
                        metrics: metrics,
                        aggregated: nil,
                        timestamp: timestamp
                    )
                )
            }
            try await manager.store.insertTaskSamples(samples)
            let all = try await client.send("/tasks/\(task.id)/metrics?limit=3&order=desc", .get)
            #expect(all.status == .ok)
            let json = try all.json
            #expect(json["task_id"] == .string(task.id))
            #expect(json["total"] == .integer(10))
            #expect(json["limit"] == .integer(3))
            guard case .array(let items)? = json["metrics"], case .object(let first)? = items.first else {
                throw TestFailure("no metrics")
            }
            #expect(items.count == 3)
            #expect(first["timestamp"] == .string(base.adding(seconds: 9).rfc3339))
            guard case .object(let aggregated)? = json["aggregated"] else { throw TestFailure("no aggregate") }
            #expect(aggregated["sample_count"] == .integer(10))
            #expect(aggregated["max_cpu_usage"]?.integerValue == 90)

            let from = base.adding(seconds: 2).rfc3339
            let to = base.adding(seconds: 4).rfc3339
            let ranged = try await client.send("/tasks/\(task.id)/metrics?from=\(from)&to=\(to)", .get).json
            #expect(ranged["total"] == .integer(3))
            let backwards = try await client.send("/tasks/\(task.id)/metrics?from=\(to)&to=\(from)", .get)
            #expect(backwards.status == .badRequest)
            #expect(backwards.errorMessage?.contains("from") == true)
            for (query, name) in [
                ("from=yesterday", "from"), ("to=2025-13-01T00:00:00Z", "to"), ("order=up", "order"),
                ("limit=0", "limit"), ("limit=1001", "limit"), ("step=5", "step"),
            ] {
                let response = try await client.send("/tasks/\(task.id)/metrics?\(query)", .get)
                #expect(response.status == .badRequest, "\(query)")
                #expect(response.errorMessage?.contains(name) == true, "\(query)")
            }
            let empty = try await client.createTask()
            let none = try await client.send("/tasks/\(empty.id)/metrics", .get).json
            #expect(none["aggregated"] == .null)
            #expect(none["total"] == .integer(0))
            #expect(try await client.send("/tasks/nope/metrics", .get).status == .notFound)
        }
    }
}
