import Foundation
import PropellerCore
import PropellerTestSupport
import WAT

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A manager and a proplet as real `propeller` processes on one real broker, with REST helpers, for
/// the delivery and state tests. Intervals are short (heartbeat and metrics 1 s) to keep tests fast.
final class DeliveryStack: @unchecked Sendable {
    let broker: MosquittoBroker
    let directory: URL
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }
    var manager: ServiceProcess?
    var proplet: ServiceProcess?
    let common: [String: String]
    var managerEnvironment: [String: String]
    var propletEnvironment: [String: String]

    init(broker: MosquittoBroker, timeout: Int = 20) throws {
        self.broker = broker
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("delivery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try LoopbackPort.free()
        common = ["PROPELLER_MQTT_URL": broker.url, "PROPELLER_DOMAIN_ID": "dlv", "PROPELLER_CHANNEL_ID": "c1"]
        managerEnvironment = common.merging([
            "MANAGER_HTTP_PORT": String(port),
            "MANAGER_DB_PATH": directory.appendingPathComponent("propeller.db").path,
            "MANAGER_PROPLET_TIMEOUT": String(timeout),
        ]) { _, new in new }
        propletEnvironment = common.merging([
            "PROPLET_STATE_DIR": directory.appendingPathComponent("proplet").path,
            "PROPLET_LIVELINESS_INTERVAL": "1",
            "PROPLET_METRICS_INTERVAL": "1",
            "PROPLET_ACK_TIMEOUT": "2",
        ]) { _, new in new }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func startManager() throws {
        manager = try ServiceProcess(["manager"], environment: managerEnvironment, directory: directory)
    }

    func startProplet() throws {
        proplet = try ServiceProcess(["proplet"], environment: propletEnvironment, directory: directory)
    }

    func stopAll() async {
        await proplet?.terminate()
        await manager?.terminate()
    }

    var logs: String {
        "--- manager ---\n\(manager?.log.suffix(3000) ?? "")\n--- proplet ---\n\(proplet?.log.suffix(3000) ?? "")"
    }

    func request(_ method: String, _ path: String, body: String? = nil) async throws -> (Int, JSONValue) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.timeoutInterval = 10
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

    /// Polls until `condition` holds, or throws naming what was awaited (with both logs).
    func eventually(_ what: String, within seconds: Double, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("timed out after \(seconds) s waiting for: \(what)\n\(logs)")
    }

    /// The one registered proplet, once listed alive with its name and metadata.
    func registeredProplet(within seconds: Double = 30) async throws -> JSONValue {
        var found: JSONValue = .null
        try await eventually("a live, registered proplet", within: seconds) {
            let (_, page) = try await request("GET", "/proplets")
            guard let proplet = page["proplets"]?.elements.first, proplet["alive"] == .bool(true),
                proplet["metadata"]?["cpu_count"] != nil, proplet["metadata"] != .null
            else { return false }
            found = proplet
            return true
        }
        return found
    }

    /// Creates and starts the demo daemon (a WASI command that idles) with a profile; returns its id.
    func startDemoDaemon(profile: String = "intensive") async throws -> String {
        let demo = try String(contentsOf: repositoryRoot.appendingPathComponent("Examples/demo.wat"), encoding: .utf8)
        let file = Data(try wat2wasm(demo)).base64EncodedString()
        let (created, task) = try await request(
            "POST",
            "/tasks",
            body: #"{"name":"_start","daemon":true,"monitoring_profile":"\#(profile)","file":"\#(file)"}"#
        )
        guard created == 201, let id = task["id"]?.stringValue else {
            throw HarnessError("task not created: \(created) \(task)")
        }
        let (started, body) = try await request("POST", "/tasks/\(id)/start", body: "{}")
        guard started == 200 else { throw HarnessError("task not started: \(started) \(body)\n\(logs)") }
        return id
    }

    func state(of id: String) async throws -> (String?, String?) {
        let (_, task) = try await request("GET", "/tasks/\(id)")
        return (task["state"]?.stringValue, task["error"]?.stringValue)
    }

    /// Every stored sample timestamp of a task, ascending.
    func sampleTimes(of id: String) async throws -> [Timestamp] {
        let (status, page) = try await request("GET", "/tasks/\(id)/metrics?limit=1000")
        guard status == 200 else { throw HarnessError("metrics query answered \(status)") }
        return (page["metrics"]?.elements ?? []).compactMap { $0["timestamp"]?.stringValue }
            .compactMap { Timestamp(rfc3339: $0) }
    }

    /// The largest gap between consecutive samples, in seconds.
    static func largestGap(_ times: [Timestamp]) -> Double {
        zip(times, times.dropFirst()).map { Double($1.microsecondsSinceEpoch - $0.microsecondsSinceEpoch) / 1e6 }
            .max() ?? 0
    }
}
