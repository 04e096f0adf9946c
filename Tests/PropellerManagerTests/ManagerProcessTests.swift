import Foundation
import Logging
import PropellerCore
import PropellerMQTT
import PropellerTestSupport
import Testing

/// The real `propeller manager` process against a real Mosquitto broker, with this test acting as a
/// proplet over MQTT and as an API client over HTTP.
@Suite("Manager process with a real broker")
struct ManagerProcessTests {
    /// A proplet as seen from the broker: registers, heartbeats, receives commands, publishes samples.
    final class FakeProplet: Sendable {
        let id = "fake-\(UUID().uuidString.prefix(8).lowercased())"
        let client: MQTTClient
        let topics = Topics()

        init(brokerURL: String) throws {
            var logger = Logger(label: "test.fake-proplet")
            logger.logLevel = .warning
            client = try MQTTClient(
                configuration: MQTTConfiguration(url: brokerURL, clientID: "test-\(UUID().uuidString.prefix(8))"),
                logger: logger
            )
        }

        func register() async throws {
            let metadata = PropletMetadata(
                hostname: "test",
                os: "linux",
                arch: "x86_64",
                cpuCount: 2,
                totalMemoryBytes: 1 << 30,
                version: PropellerVersion.current,
                wasmRuntime: "none"
            )
            try await client.publish(
                topics.topic(.propletCreate, propletID: id),
                json: PropletRegistration(propletID: id, name: "fake", metadata: metadata),
                qos: .atLeastOnce
            )
        }

        func heartbeat(status: PropletHeartbeat.Status = .alive) async throws {
            try await client.publish(
                topics.topic(.propletAlive, propletID: id),
                json: PropletHeartbeat(propletID: id, status: status, runningTasks: 0, timestamp: .now()),
                qos: .atLeastOnce
            )
        }

        func sample(task: String, at timestamp: Timestamp, cpu: Double) -> TaskSample {
            TaskSample(
                taskID: task,
                propletID: id,
                metrics: ProcessMetrics(
                    cpuPercent: cpu,
                    memoryBytes: 1_048_576,
                    threadCount: 1,
                    fileDescriptorCount: 4
                ),
                aggregated: nil,
                timestamp: timestamp
            )
        }
    }

    static func get(_ base: URL, _ path: String) async throws -> HTTPTestClient.Response {
        try await HTTPTestClient.request(URL(string: base.absoluteString + path)!)
    }

    static func eventually(
        _ what: String,
        timeout: Duration = .seconds(20),
        _ check: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await check()) == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    @Test("create → start → samples and results over MQTT → visible over HTTP; liveness; restart keeps everything")
    func endToEnd() async throws {
        try await withMosquitto { broker in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mgr-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let environment = [
                "PROPELLER_MQTT_URL": broker.url, "MANAGER_STORAGE": "sqlite",
                "MANAGER_DB_PATH": directory.appendingPathComponent("propeller.db").path,
                "MANAGER_PROPLET_TIMEOUT": "2s", "MANAGER_LIVENESS_CHECK_INTERVAL": "1",
            ]
            let proplet = try FakeProplet(brokerURL: broker.url)
            try await proplet.client.connect()
            let starts = try await proplet.client.subscribe(
                proplet.topics.topic(.managerStart, propletID: proplet.id),
                qos: .atLeastOnce
            )
            var startCommands = starts.makeAsyncIterator()

            let manager = try await ManagerProcess.start(environment: environment)
            let base = manager.baseURL
            var taskID = ""
            var lostTaskID = ""
            do {
                // Registration (retried: the manager may still be subscribing).
                try await Self.eventually("the proplet to be alive") {
                    try await proplet.register()
                    let response = try await Self.get(base, "/proplets/\(proplet.id)")
                    guard response.status == 200 else { return false }
                    return try response.decoded(as: Proplet.self).alive
                }
                let created = try await HTTPTestClient.request(
                    base.appendingPathComponent("tasks"),
                    method: "POST",
                    json: #"{"name": "add", "file": "AGFzbQEAAAA=", "monitoring_profile": "intensive"}"#
                )
                #expect(created.status == 201)
                taskID = try created.decoded(as: WasmTask.self).id
                #expect(created.headers["location"] == "/tasks/\(taskID)")

                let started = try await HTTPTestClient.request(
                    base.appendingPathComponent("tasks/\(taskID)/start"),
                    method: "POST"
                )
                #expect(started.status == 200)
                let message = try #require(await startCommands.next())
                let command = try WireCoding.decode(StartCommand.self, from: message.payload)
                #expect(command.id == taskID)
                #expect(command.propletID == proplet.id)
                #expect(command.monitoringProfile == .intensive)

                // Samples, one malformed message, then the results with the final sample (also published
                // as a sample: stored once).
                let begin = Timestamp.now()
                for index in 0..<4 {
                    try await proplet.client.publish(
                        proplet.topics.topic(.propletTaskMetrics),
                        json: proplet.sample(
                            task: taskID,
                            at: begin.adding(seconds: Double(index)),
                            cpu: Double(10 * index)
                        ),
                        qos: .atLeastOnce
                    )
                }
                try await proplet.client.publish(
                    proplet.topics.topic(.propletTaskMetrics),
                    payload: Array(#"{"task_id": 1}"#.utf8),
                    qos: .atLeastOnce,
                    retain: false
                )
                try await Self.eventually("the running task's gauge") {
                    let text = try await Self.get(base, "/metrics").text
                    return text.contains(#"propeller_task_cpu_percent{task_id="\#(taskID)",task_name="add""#)
                }
                let final = proplet.sample(task: taskID, at: begin.adding(seconds: 4), cpu: 50)
                try await proplet.client.publish(
                    proplet.topics.topic(.propletTaskMetrics),
                    json: final,
                    qos: .atLeastOnce
                )
                let result = TaskResult(
                    taskID: taskID,
                    propletID: proplet.id,
                    state: .completed,
                    results: "5",
                    exitCode: 0,
                    startedAt: begin,
                    finishedAt: begin.adding(seconds: 4),
                    finalMetrics: FinalMetrics(
                        metrics: final.metrics,
                        aggregated: AggregatedMetrics(avgCPUUsage: 20, maxCPUUsage: 50, sampleCount: 5),
                        timestamp: final.timestamp
                    )
                )
                try await proplet.client.publish(
                    proplet.topics.topic(.propletResults, propletID: proplet.id),
                    json: result,
                    qos: .atLeastOnce
                )
                try await Self.eventually("the results") {
                    try await Self.get(base, "/tasks/\(taskID)/results").decoded(as: TaskResults.self).state
                        == .completed
                }
                let results = try await Self.get(base, "/tasks/\(taskID)/results").decoded(as: TaskResults.self)
                #expect(results.results == "5")
                #expect(results.exitCode == 0)
                try await Self.eventually("five stored samples") {
                    try await Self.get(base, "/tasks/\(taskID)/metrics").decoded(as: TaskMetricsPage.self).total == 5
                }
                let metrics = try await Self.get(base, "/tasks/\(taskID)/metrics?order=desc").decoded(
                    as: TaskMetricsPage.self
                )
                let aggregated = try #require(metrics.aggregated)
                #expect(aggregated.sampleCount == 5)
                #expect(aggregated.maxCPUUsage == 50)
                let exposition = try await Self.get(base, "/metrics").text
                #expect(exposition.contains(#"propeller_ingest_messages_dropped_total{reason="undecodable"} 1"#))
                #expect(!exposition.contains(#"propeller_task_cpu_percent{task_id="\#(taskID)""#))

                // A second task; the proplet goes silent → not alive, task failed with "proplet lost".
                let second = try await HTTPTestClient.request(
                    base.appendingPathComponent("tasks"),
                    method: "POST",
                    json: #"{"name": "_start", "file": "AGFzbQEAAAA=", "daemon": true}"#
                )
                lostTaskID = try second.decoded(as: WasmTask.self).id
                try await proplet.heartbeat()
                let secondStart = try await HTTPTestClient.request(
                    base.appendingPathComponent("tasks/\(lostTaskID)/start"),
                    method: "POST",
                    json: #"{"proplet_id": "\#(proplet.id)"}"#
                )
                #expect(secondStart.status == 200)
                try await Self.eventually("proplet lost", timeout: .seconds(15)) {
                    let task = try await Self.get(base, "/tasks/\(lostTaskID)").decoded(as: WasmTask.self)
                    return task.state == .failed && task.error == "proplet lost"
                }
                #expect(try await Self.get(base, "/proplets/\(proplet.id)").decoded(as: Proplet.self).alive == false)
            } catch {
                Issue.record("manager log:\n\(manager.log)")
                await manager.stop()
                throw error
            }
            #expect(await manager.stop() == 0, "graceful shutdown on SIGTERM")

            // Restart on the same SQLite file: tasks, proplets and samples are still there.
            try await withManager(environment: environment) { base in
                let task = try await Self.get(base, "/tasks/\(taskID)").decoded(as: WasmTask.self)
                #expect(task.state == .completed)
                #expect(task.results == "5")
                #expect(
                    try await Self.get(base, "/tasks/\(lostTaskID)").decoded(as: WasmTask.self).error == "proplet lost"
                )
                #expect(
                    try await Self.get(base, "/tasks/\(taskID)/metrics").decoded(as: TaskMetricsPage.self).total == 5
                )
                #expect(try await Self.get(base, "/proplets").decoded(as: PropletPage.self).total == 1)
            }
            await proplet.client.disconnect()
        }
    }

    @Test("a configuration value that does not parse stops the manager with a message naming the variable")
    func badConfiguration() async throws {
        do {
            _ = try await ManagerProcess.start(environment: ["MANAGER_PROPLET_TIMEOUT": "soon"])
            Issue.record("the manager started with MANAGER_PROPLET_TIMEOUT=soon")
        } catch let error as ManagerProcessError {
            guard case .exited(let status, let log) = error else { throw error }
            #expect(status != 0)
            #expect(log.contains("MANAGER_PROPLET_TIMEOUT"))
        }
    }
}

extension HTTPTestClient.Response {
    /// The body decoded as one of the API's response types.
    func decoded<T: Decodable>(as type: T.Type) throws -> T {
        try WireCoding.decode(type, from: body)
    }
}
