import Foundation
import Logging
import PropellerCore
import PropellerMQTT
import PropellerTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("The manager's persistent MQTT session", .timeLimit(.minutes(3)))
struct ManagerSessionTests {
    private func get(_ url: String) async throws -> (Int, JSONValue) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return (
            (response as? HTTPURLResponse)?.statusCode ?? 0,
            (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
        )
    }

    private func waitForHealth(_ base: String, _ service: ServiceProcess) async throws {
        for _ in 0..<300 {
            if let (status, _) = try? await get("\(base)/health"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("manager did not start:\n\(service.log)")
    }

    @Test("samples published while the manager is down are stored once it is back")
    func queuedWhileDown() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("session-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withMosquitto { broker in
            let port = try LoopbackPort.free()
            let base = "http://127.0.0.1:\(port)"
            let environment = [
                "PROPELLER_MQTT_URL": broker.url, "MANAGER_HTTP_PORT": String(port),
                "MANAGER_DB_PATH": directory.appendingPathComponent("propeller.db").path,
            ]
            let first = try await ServiceProcess(["manager"], environment: environment, directory: directory)
            try await waitForHealth(base, first)
            // A proplet speaking the protocol registers, and the task is started on it.
            let publisher = try ProtocolPublisher(brokerURL: broker.url, topics: Topics())
            try await publisher.client.connect()
            // Registered again until listed: the manager may not have subscribed yet when it answers /health.
            var registered = false
            for attempt in 0..<600 where !registered {
                if attempt % 5 == 0 { try await publisher.register() }
                if let (status, body) = try? await get("\(base)/proplets/\(publisher.id)"), status == 200,
                    (try? body.decoded(as: Proplet.self))?.metadata != nil
                {
                    registered = true
                } else {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            try #require(registered, "the proplet was not registered within 60 s:\n\(first.log)")
            var request = URLRequest(url: URL(string: "\(base)/tasks")!)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(#"{"name":"add","daemon":true,"file":"AGFzbQEAAAA="}"#.utf8)
            let (body, _) = try await URLSession.shared.data(for: request)
            let task = try JSONDecoder().decode(JSONValue.self, from: body)
            let taskID = try task.decoded(as: WasmTask.self).id
            var start = URLRequest(url: URL(string: "\(base)/tasks/\(taskID)/start")!)
            start.httpMethod = "POST"
            start.setValue("application/json", forHTTPHeaderField: "Content-Type")
            start.httpBody = Data(#"{"proplet_id":"\#(publisher.id)"}"#.utf8)
            let (_, startResponse) = try await URLSession.shared.data(for: start)
            #expect((startResponse as? HTTPURLResponse)?.statusCode == 200)
            try await Task.sleep(for: .milliseconds(500))  // the session and its subscription exist
            await first.terminate()

            let sample = TaskSample(
                taskID: taskID,
                propletID: publisher.id,
                metrics: ProcessMetrics(cpuPercent: 12.5, memoryBytes: 1_048_576),
                aggregated: nil,
                timestamp: .now(),
                seq: 1
            )
            try await publisher.client.publish(Topics().topic(.propletTaskMetrics), json: sample, qos: .atLeastOnce)
            await publisher.client.disconnect()

            let second = try await ServiceProcess(["manager"], environment: environment, directory: directory)
            try await waitForHealth(base, second)
            var total = 0
            for _ in 0..<50 {
                let (_, page) = try await get("\(base)/tasks/\(taskID)/metrics")
                if let page = try? page.decoded(as: TaskMetricsPage.self) { total = page.total }
                if total >= 1 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(
                total == 1,
                "the sample published while the manager was down was not stored:\n\(second.log)\n--- broker ---\n\(broker.log)"
            )
            await second.terminate()
        }
    }
}
