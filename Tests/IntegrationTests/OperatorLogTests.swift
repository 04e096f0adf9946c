import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What an operator reads: the log lines (text and JSON) and `/health`, `/health/ready`.
@Suite("Logs and health of the manager process")
struct OperatorLogTests {
    @Test("JSON logs parse line by line, carry ms UTC timestamps, request lines and the redacted configuration")
    func jsonLogs() async throws {
        let password = "pw-\(UUID().uuidString)"
        let token = "tok-\(UUID().uuidString)"
        try await withMosquitto { broker in
            let manager = try await ManagerProcess.start(environment: [
                "PROPELLER_MQTT_URL": broker.url, "PROPELLER_LOG_FORMAT": "json", "PROPELLER_LOG_LEVEL": "debug",
                "PROPELLER_MQTT_USERNAME": "manager", "PROPELLER_MQTT_PASSWORD": password, "MANAGER_STORAGE": "memory",
            ])
            var request = URLRequest(url: manager.baseURL.appendingPathComponent("tasks"))
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            _ = try await URLSession.shared.data(for: request)
            _ = try await HTTPTestClient.request(manager.baseURL.appendingPathComponent("tasks/nope"))
            _ = try await HTTPTestClient.request(URL(string: manager.baseURL.absoluteString + "/tasks?token=\(token)")!)
            await manager.stop()
            let lines = manager.log.split(separator: "\n").map(String.init)
            #expect(lines.count > 5)
            var objects: [[String: Any]] = []
            for line in lines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                let parsed = try #require(object, "not a JSON object: \(line)")
                objects.append(parsed)
                let timestamp = try #require(parsed["timestamp"] as? String)
                #expect(timestamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(timestamp)")
                #expect(parsed["level"] is String && parsed["message"] is String && parsed["logger"] is String)
            }
            let config = try #require(objects.first { $0["message"] as? String == "configuration loaded" })
            #expect(config["mqttPassword"] as? String == "<set>" && config["mqttURL"] as? String == broker.url)
            let requests = objects.filter { $0["message"] as? String == "request" }
            let missing = try #require(requests.first { $0["http.path"] as? String == "/tasks/nope" }, "\(requests)")
            #expect(missing["http.method"] as? String == "GET" && missing["http.status"] as? String == "404")
            #expect(Double(missing["duration_ms"] as? String ?? "") != nil)
            #expect(requests.contains { $0["http.path"] as? String == "/health" && $0["level"] as? String == "debug" })
            #expect(!manager.log.contains(password), "the MQTT password never reaches the log")
            #expect(!manager.log.contains(token), "a token never reaches the log")
        }
    }

    @Test("text logs have ms UTC timestamps and honour PROPELLER_LOG_LEVEL; a bad level stops the start")
    func textLogsAndLevels() async throws {
        let manager = try await ManagerProcess.start(environment: [
            "MANAGER_STORAGE": "memory", "PROPELLER_MQTT_URL": "mqtt://127.0.0.1:1",
        ])
        _ = try await HTTPTestClient.request(manager.baseURL.appendingPathComponent("proplets"))
        await manager.stop()
        let line = try #require(
            manager.log.split(separator: "\n").first { $0.contains(" request ") || $0.contains(": request") }
        )
        #expect(
            line.prefixMatch(of: #/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info propeller.manager: request /#) != nil,
            "\(line)"
        )
        #expect(
            line.contains("http.status=200") && line.contains("http.path=/proplets") && line.contains("duration_ms=")
        )

        let quiet = try await runCommand(
            BinaryLocator.path(of: "propeller"),
            ["manager"],
            environment: ["PROPELLER_LOG_LEVEL": "loud", "MANAGER_HTTP_PORT": "0"],
            timeout: .seconds(30)
        )
        #expect(quiet.status != 0)
        #expect(quiet.stderr.contains("PROPELLER_LOG_LEVEL must be one of trace, debug, info"), "\(quiet.stderr)")
        let format = try await runCommand(
            BinaryLocator.path(of: "propeller"),
            ["manager"],
            environment: ["PROPELLER_LOG_FORMAT": "xml", "MANAGER_HTTP_PORT": "0"],
            timeout: .seconds(30)
        )
        #expect(
            format.status != 0 && format.stderr.contains("PROPELLER_LOG_FORMAT must be text or json"),
            "\(format.stderr)"
        )
    }

    @Test("/health says degraded and /health/ready 503 while the broker is unreachable; ok and 200 with it")
    func healthFollowsTheBroker() async throws {
        let port = try LoopbackPort.free()
        let unreachable = try await ManagerProcess.start(environment: [
            "MANAGER_STORAGE": "memory", "PROPELLER_MQTT_URL": "mqtt://127.0.0.1:\(port)",
        ])
        let health = try await HTTPTestClient.request(unreachable.baseURL.appendingPathComponent("health"))
        #expect(health.status == 200)
        #expect(
            try WireCoding.decode(HealthStatus.self, from: health.body)
                == HealthStatus(
                    status: "degraded",
                    version: PropellerVersion.current,
                    mqtt: "disconnected",
                    storage: "ok"
                )
        )
        let ready = try await HTTPTestClient.request(unreachable.baseURL.appendingPathComponent("health/ready"))
        #expect(ready.status == 503)
        #expect(try WireCoding.decode(HealthStatus.self, from: ready.body).mqtt == "disconnected")
        await unreachable.stop()

        try await withMosquitto { broker in
            try await withManager(environment: ["PROPELLER_MQTT_URL": broker.url]) { url in
                var ready = try await HTTPTestClient.request(url.appendingPathComponent("health/ready"))
                let deadline = ContinuousClock.now + .seconds(10)
                while ready.status != 200 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    ready = try await HTTPTestClient.request(url.appendingPathComponent("health/ready"))
                }
                #expect(ready.status == 200, "\(ready.text)")
                #expect(
                    try WireCoding.decode(HealthStatus.self, from: ready.body)
                        == HealthStatus(
                            status: "ok",
                            version: PropellerVersion.current,
                            mqtt: "connected",
                            storage: "ok"
                        )
                )
            }
        }
    }
}
