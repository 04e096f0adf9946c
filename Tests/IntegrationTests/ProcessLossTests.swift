import Foundation
import PropellerCore
import PropellerTestSupport
import Testing
import WAT

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

@Suite("Manager and proplet as separate processes over a real broker", .timeLimit(.minutes(5)))
struct ProcessLossTests {
    private func request(_ method: String, _ url: String, body: String? = nil) async throws -> (Int, JSONValue) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return (
            (response as? HTTPURLResponse)?.statusCode ?? 0,
            (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
        )
    }

    private func eventually(
        _ what: String,
        within seconds: Int,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("timed out after \(seconds) s waiting for: \(what)")
    }

    @Test("SIGKILL of a proplet: its last will marks it not alive and its running task fails with proplet lost")
    func propletLost() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loss-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withMosquitto { broker in
            let port = try LoopbackPort.free()
            let base = "http://127.0.0.1:\(port)"
            let common = [
                "PROPELLER_MQTT_URL": broker.url, "PROPELLER_DOMAIN_ID": "loss", "PROPELLER_CHANNEL_ID": "c1",
            ]
            let manager = try await ServiceProcess(
                ["manager"],
                environment: common.merging([
                    "MANAGER_HTTP_PORT": String(port),
                    "MANAGER_DB_PATH": directory.appendingPathComponent("propeller.db").path,
                    "MANAGER_PROPLET_TIMEOUT": "3s",
                ]) { _, new in new },
                directory: directory
            )
            let proplet = try await ServiceProcess(
                ["proplet"],
                environment: common.merging([
                    "PROPLET_STATE_DIR": directory.appendingPathComponent("proplet").path,
                    "PROPLET_LIVELINESS_INTERVAL": "1",
                    "PROPLET_METRICS_INTERVAL": "1",
                ]) { _, new in new },
                directory: directory
            )
            defer { _ = (manager, proplet) }
            try await eventually("a live proplet", within: 30) {
                let (_, page) = try await request("GET", "\(base)/proplets")
                return try page.decoded(as: PropletPage.self).proplets.first?.alive == true
            }
            let demo = try String(
                contentsOf: repositoryRoot.appendingPathComponent("Examples/demo.wat"),
                encoding: .utf8
            )
            let file = Data(try wat2wasm(demo)).base64EncodedString()
            let (created, task) = try await request(
                "POST",
                "\(base)/tasks",
                body: #"{"name":"_start","daemon":true,"monitoring_profile":"intensive","file":"\#(file)"}"#
            )
            #expect(created == 201)
            let id = try task.decoded(as: WasmTask.self).id
            let (started, _) = try await request("POST", "\(base)/tasks/\(id)/start", body: "{}")
            #expect(started == 200)
            try await eventually("samples of the running daemon", within: 20) {
                let (_, page) = try await request("GET", "\(base)/tasks/\(id)/metrics")
                return try page.decoded(as: TaskMetricsPage.self).total >= 2
            }
            let runners = descendants(of: proplet.pid)
            #expect(!runners.isEmpty, "the task runs in a child process of the proplet")
            await proplet.terminate(SIGKILL)
            try await eventually("the task's runner dies with its proplet (no orphaned tasks)", within: 5) {
                runners.allSatisfy { !isAlive($0) }
            }
            try await eventually("the proplet marked not alive", within: 10) {
                let (_, page) = try await request("GET", "\(base)/proplets")
                return try page.decoded(as: PropletPage.self).proplets.first?.alive == false
            }
            try await eventually("the task failed with proplet lost", within: 10) {
                let task = try await request("GET", "\(base)/tasks/\(id)").1.decoded(as: WasmTask.self)
                return task.state == .failed && task.error == "proplet lost"
            }
            await manager.terminate()
        }
    }
}
