import Foundation
import Logging
import PropellerCore
import PropellerLauncher
import PropellerMQTT
import PropellerTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 12's acceptance: a real Mosquitto with `propeller broker-config`'s files (proplets `pa` and
/// `pb`, anonymous read-only `metrics/#`), a real manager and a real proplet A running a daemon task
/// with a secret in its env. A client with a wrong password, the anonymous read-only client and proplet
/// B (as an MQTT client with B's credentials) attack A: a start on A's topic, a result and a sample for
/// A's task, A's offline will, a registration as A, reading A's start commands. Each is refused by the
/// broker or dropped (and counted) by the manager; A's task runs on untouched; only A sees its env.
@Suite("Attackers on the broker: refused by the ACL or dropped by the manager", .timeLimit(.minutes(4)))
struct AttackerTests {
    static let base = "m/default/c/default/"
    static let secret = "s3cr3t-0f-task-a"

    @Test("anonymous, read-only and proplet B cannot start, report, register, will or read as proplet A")
    func attackers() async throws {
        let generated = try await BrokerConfigTests.generate([
            "--proplet", "pa", "--proplet", "pb", "--anonymous-metrics",
        ])
        let work = generated.directory
        defer { try? FileManager.default.removeItem(at: work) }
        try await withConfiguredMosquitto(directory: work, port: generated.port) { broker in
            let httpPort = try LoopbackPort.free()
            var managerEnvironment = try generated.environment("manager-manager")
            managerEnvironment["MANAGER_HTTP_PORT"] = "\(httpPort)"
            managerEnvironment["MANAGER_STORAGE"] = "memory"
            let manager = try await SecureStackTests.spawn(
                ["manager"],
                managerEnvironment,
                log: work.appendingPathComponent("manager.log")
            )
            var propletEnvironment = try generated.environment("proplet-pa")
            propletEnvironment["PROPLET_STATE_DIR"] = work.appendingPathComponent("state-pa").path
            propletEnvironment["PROPLET_LIVELINESS_INTERVAL"] = "1"
            propletEnvironment["PROPLET_METRICS_INTERVAL"] = "1"
            let propletLog = work.appendingPathComponent("pa.log")
            let proplet = try await SecureStackTests.spawn(["proplet"], propletEnvironment, log: propletLog)
            defer { for process in [proplet, manager] { kill(process.processIdentifier, SIGKILL) } }
            let api = URL(string: "http://127.0.0.1:\(httpPort)")!
            func get(_ path: String) async throws -> HTTPTestClient.Response {
                try await HTTPTestClient.request(api.appendingPathComponent(path))
            }
            func logs() -> String {
                ["manager.log", "pa.log"].map {
                    ((try? String(contentsOf: work.appendingPathComponent($0), encoding: .utf8)) ?? "").suffix(1500)
                }.joined(separator: "\n---\n") + "\n---\n" + broker.log.suffix(1000)
            }

            // Proplet A registered (with metadata) and alive.
            var listed: Proplet?
            for _ in 0..<150 {
                if let page = try? WireCoding.decode(PropletPage.self, from: try await get("proplets").body) {
                    listed = page.proplets.first { $0.id == "pa" && $0.alive && $0.metadata != nil }
                }
                if listed != nil { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let registered = try #require(listed, "proplet pa never registered:\n\(logs())")

            // The attackers: B with its own credentials, the anonymous (read-only) client.
            let other = try await generated.client("proplet-pb")
            let reader = try await generated.client(nil)
            let otherInbox = Collector(try await other.subscribe("m/#", qos: .atLeastOnce))
            let readerInbox = Collector(try await reader.subscribe("m/#", qos: .atLeastOnce))

            // A's daemon task with a secret in its env.
            let daemon = Data(try Fixtures.wasm("daemon")).base64EncodedString()
            let created = try await HTTPTestClient.request(
                api.appendingPathComponent("tasks"),
                method: "POST",
                json:
                    #"{"name":"_start","file":"\#(daemon)","daemon":true,"monitoring_profile":"intensive","env":{"SECRET":"\#(Self.secret)"}}"#
            )
            #expect(created.status == 201)
            let task = try WireCoding.decode(WasmTask.self, from: created.body)
            let started = try await HTTPTestClient.request(
                api.appendingPathComponent("tasks/\(task.id)/start"),
                method: "POST",
                json: #"{"proplet_id":"pa"}"#
            )
            #expect(started.status == 200, "\(started.text)")
            var samples = 0
            for _ in 0..<100 where samples < 2 {
                samples =
                    (try? WireCoding.decode(TaskMetricsPage.self, from: try await get("tasks/\(task.id)/metrics").body))?
                    .total ?? 0
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(samples >= 2, "A's task is monitored:\n\(logs())")
            let droppedBefore = try await Self.dropped(get)

            // A client with a wrong password is refused outright.
            let wrong = try await runCommand(
                "/usr/bin/mosquitto_pub",
                [
                    "-p", "\(generated.port)", "-u", "pa", "-P", "not-the-password", "-t",
                    Self.base + "control/manager/pa/start", "-m", "{}",
                ],
                timeout: .seconds(10)
            )
            #expect(wrong.status != 0, "a wrong password must be refused")

            // Forged messages. Allowed by the ACL (B's own topics, the shared sample topic), so the
            // manager's identity checks must drop them:
            let now = Timestamp.now().rfc3339
            let sample = { (id: String) in
                #"{"task_id":"\#(task.id)","proplet_id":"\#(id)","seq":900001,"metrics":{"cpu_percent":99.0},"timestamp":"\#(now)"}"#
            }
            let result = { (id: String) in
                #"{"task_id":"\#(task.id)","proplet_id":"\#(id)","seq":900002,"state":"completed","results":"forged","error":null,"exit_code":0}"#
            }
            let registration = """
                {"proplet_id":"pa","name":"evil","metadata":{"hostname":"evil","os":"linux","arch":"x86_64",\
                "cpu_count":64,"total_memory_bytes":1,"version":"0.1.0","wasm_runtime":"wasmkit"}}
                """
            let start =
                #"{"id":"\#(UUID().uuidString.lowercased())","name":"add","proplet_id":"pa","file":"\#(daemon)"}"#
            let offline = #"{"proplet_id":"pa","status":"offline","running_tasks":0,"task_ids":[]}"#
            func send(_ client: MQTTClient, _ suffix: String, _ payload: String) async throws {
                try await client.publish(
                    Self.base + suffix,
                    payload: Array(payload.utf8),
                    qos: .atMostOnce,
                    retain: false
                )
            }
            try await send(other, "control/proplet/pb/results", result("pb"))
            try await send(other, "control/proplet/pb/results", result("pa"))
            try await send(other, "control/proplet/task_metrics", sample("pb"))
            try await send(other, "control/proplet/pb/create", registration)
            try await send(other, "control/proplet/pb/alive", offline)
            // Refused by the broker (A's topics, or any write for the read-only client):
            for client in [other, reader] {
                try await send(client, "control/manager/pa/start", start)
                try await send(client, "control/proplet/pa/results", result("pa"))
                try await send(client, "control/proplet/pa/create", registration)
                try await send(client, "control/proplet/pa/alive", offline)
            }
            try await send(reader, "control/proplet/task_metrics", sample("pa"))
            // B's last will on A's alive topic: the broker drops it.
            let credentials = try generated.environment("proplet-pb")
            let will = try await ProcessLauncher.launch(
                "/usr/bin/mosquitto_sub",
                arguments: [
                    "-p", "\(generated.port)", "-u", "pb", "-P", credentials["PROPELLER_MQTT_PASSWORD"] ?? "",
                    "-i", "pb-will", "-t", Self.base + "control/manager/pb/#", "--will-topic",
                    Self.base + "control/proplet/pa/alive", "--will-payload", offline,
                ]
            )
            try await Task.sleep(for: .milliseconds(700))
            kill(will.processIdentifier, SIGKILL)
            _ = await will.waitForExit(timeout: .seconds(5))
            try await Task.sleep(for: .seconds(3))

            // A's task runs on untouched; A is alive under its own name; nothing forged was stored.
            let now1 = try WireCoding.decode(WasmTask.self, from: try await get("tasks/\(task.id)").body)
            #expect(now1.state == .running && now1.results == nil && now1.propletID == "pa", "\(now1)\n\(logs())")
            let proplets = try WireCoding.decode(PropletPage.self, from: try await get("proplets").body).proplets
            #expect(proplets.map(\.id) == ["pa"], "B never registered, nor as A: \(proplets)")
            #expect(proplets.first?.alive == true && proplets.first?.name == registered.name)
            #expect(proplets.first?.metadata?.hostname == registered.metadata?.hostname)
            let stored = try WireCoding.decode(
                TaskMetricsPage.self,
                from: try await get("tasks/\(task.id)/metrics").body
            )
            #expect(!stored.metrics.contains { $0.metrics.cpuPercent == 99.0 }, "a forged sample was stored")
            let dropped = try await Self.dropped(get)
            let notAssigned = (dropped["not_assigned"] ?? 0) - (droppedBefore["not_assigned"] ?? 0)
            let mismatch = (dropped["identity_mismatch"] ?? 0) - (droppedBefore["identity_mismatch"] ?? 0)
            #expect(notAssigned >= 2, "B's result and sample for A's task are counted: \(dropped)")
            #expect(mismatch >= 2, "B's messages claiming A's id on B's topics are counted: \(dropped)")
            // The proplet runs exactly A's one task (no forged start arrived).
            let runnerJobs = try FileManager.default.contentsOfDirectory(
                atPath: work.appendingPathComponent("state-pa").path
            )
            #expect(proplets.first?.runningTasks == 1, "\(runnerJobs)")

            // Nobody but A saw A's start command or its env; the read-only client did see metrics.
            let seen = [("B", otherInbox.messages), ("read-only", readerInbox.messages)]
            for (who, messages) in seen {
                for message in messages {
                    #expect(!message.topic.contains("control/manager/pa/"), "\(who) read \(message.topic)")
                    #expect(who == "B" || !message.topic.contains("/control/"), "\(who) read \(message.topic)")
                    #expect(!String(decoding: message.payload, as: UTF8.self).contains(Self.secret), "\(who)")
                }
            }
            #expect(readerInbox.messages.contains { $0.topic == Self.base + "metrics/proplet" })
            await other.disconnect()
            await reader.disconnect()

            let stop = try await HTTPTestClient.request(
                api.appendingPathComponent("tasks/\(task.id)/stop"),
                method: "POST",
                json: "{}"
            )
            #expect(stop.status == 200)
        }
    }

    /// Everything a subscription receives, as it arrives.
    final class Collector: Sendable {
        final class Box: Sendable {
            let received = Mutex<[PubSubMessage]>([])
        }
        private let box: Box
        private let task: Task<Void, Never>

        init(_ stream: AsyncStream<PubSubMessage>) {
            let box = Box()
            self.box = box
            task = Task { for await message in stream { box.received.withLock { $0.append(message) } } }
        }

        deinit { task.cancel() }

        var messages: [PubSubMessage] { box.received.withLock { $0 } }
    }

    /// `propeller_ingest_messages_dropped_total` by reason, from the manager's `/metrics`.
    static func dropped(_ get: (String) async throws -> HTTPTestClient.Response) async throws -> [String: Double] {
        var counts: [String: Double] = [:]
        for line in try await get("metrics").text.split(separator: "\n")
        where line.hasPrefix("propeller_ingest_messages_dropped_total{") {
            guard let open = line.range(of: "reason=\""), let close = line[open.upperBound...].firstIndex(of: "\""),
                let value = line.split(separator: " ").last.flatMap({ Double($0) })
            else { continue }
            counts[String(line[open.upperBound..<close]), default: 0] += value
        }
        return counts
    }
}
