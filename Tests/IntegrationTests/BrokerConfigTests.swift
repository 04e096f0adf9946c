import Foundation
import Logging
import PropellerLauncher
import PropellerMQTT
import PropellerTestSupport
import Testing

/// `propeller broker-config` against a real Mosquitto started with the generated files: every rule of
/// the SPEC §7 ACL is observed with real clients, allowed and refused.
@Suite("propeller broker-config: a real Mosquitto enforces the generated ACL", .timeLimit(.minutes(3)))
struct BrokerConfigTests {
    static let base = "m/default/c/default/"

    /// A generated broker directory and its port.
    struct Generated {
        let directory: URL
        let port: Int
        let stdout: String

        func environment(_ name: String) throws -> [String: String] {
            try readEnvironmentFile(directory.appendingPathComponent("\(name).env"))
        }

        /// A connected client with the credentials of the env file `name` (nil: anonymous).
        func client(_ name: String?, clientID: String? = nil) async throws -> MQTTClient {
            let environment = try name.map { try self.environment($0) } ?? [:]
            var configuration = MQTTConfiguration(
                url: "mqtt://127.0.0.1:\(port)",
                clientID: clientID ?? "test-\(name ?? "anonymous")-\(UUID().uuidString.prefix(6))",
                username: environment["PROPELLER_MQTT_USERNAME"],
                password: environment["PROPELLER_MQTT_PASSWORD"]
            )
            configuration.maximumReconnectDelay = .milliseconds(300)
            let client = try MQTTClient(configuration: configuration, logger: Logger(label: "test.acl"))
            try await client.connect()
            return client
        }
    }

    static func generate(_ extra: [String]) async throws -> Generated {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("broker-\(UUID().uuidString)")
        let port = try LoopbackPort.free()
        let result = try await runCommand(
            BinaryLocator.path(of: "propeller"),
            ["broker-config", "--output", directory.path, "--port", "\(port)", "--broker-user", "root"] + extra
        )
        try #require(result.status == 0, "broker-config failed: \(result.stderr)")
        return Generated(directory: directory, port: port, stdout: result.stdout)
    }

    /// The payload that ends an `Inbox`.
    static let end = Array("END".utf8)

    /// Collects what a client receives on one filter, up to a message with the payload `END`.
    final class Inbox: Sendable {
        let task: Task<[PubSubMessage], Never>
        init(_ stream: AsyncStream<PubSubMessage>) {
            task = Task {
                var received: [PubSubMessage] = []
                for await message in stream {
                    received.append(message)
                    if message.payload == BrokerConfigTests.end { break }
                }
                return received
            }
        }
        /// The topics of everything up to and including the `END` message (or up to 10 s).
        func topics() async -> [String] {
            let timeout = Task {
                try await Task.sleep(for: .seconds(10))
                task.cancel()
            }
            defer { timeout.cancel() }
            return await task.value.map(\.topic)
        }
    }

    @Test("files are private, passwords hashed, and the output names the files and the variables")
    func filesAndOutput() async throws {
        let generated = try await Self.generate(["--proplet", "pa", "--proplets", "2", "--anonymous-metrics"])
        defer { try? FileManager.default.removeItem(at: generated.directory) }
        func mode(_ path: String) throws -> Int {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
        }
        #expect(try mode(generated.directory.path) == 0o700)
        let files = try FileManager.default.contentsOfDirectory(atPath: generated.directory.path)
            .filter { $0 != "data" }
        #expect(files.filter { $0.hasPrefix("proplet-") && $0.hasSuffix(".env") }.count == 3, "\(files)")
        for file in files {
            #expect(try mode(generated.directory.appendingPathComponent(file).path) == 0o600, "\(file)")
        }
        let manager = try generated.environment("manager-manager")
        let password = try #require(manager["PROPELLER_MQTT_PASSWORD"])
        #expect(password.count >= 32)
        let hashed = try String(contentsOf: generated.directory.appendingPathComponent("passwords"), encoding: .utf8)
        #expect(hashed.contains("manager:$7$"))
        #expect(!hashed.contains(password), "the password file must hold hashes only")
        #expect(!generated.stdout.contains(password), "the output must not print secrets")
        #expect(generated.stdout.contains("mosquitto.conf") && generated.stdout.contains("PROPELLER_MQTT_PASSWORD"))
        let proplet = try generated.environment("proplet-pa")
        #expect(proplet["PROPLET_ID"] == "pa" && proplet["PROPELLER_MQTT_USERNAME"] == "pa")
        #expect(proplet["PROPELLER_MQTT_URL"] == "mqtt://127.0.0.1:\(generated.port)")
        let config = try String(
            contentsOf: generated.directory.appendingPathComponent("mosquitto.conf"),
            encoding: .utf8
        )
        #expect(config.contains("max_queued_messages 0") && config.contains("max_queued_bytes 0"))
        #expect(config.contains("\nset_tcp_nodelay true\n"), "small packets must not wait for Nagle")

        let again = try await runCommand(
            BinaryLocator.path(of: "propeller"),
            ["broker-config", "--output", generated.directory.path, "--proplet", "pa"]
        )
        #expect(again.status != 0 && again.stderr.contains("--force"), "an earlier run is never overwritten silently")
        let bad = try await runCommand(BinaryLocator.path(of: "propeller"), ["broker-config", "--proplet", "a/b"])
        #expect(bad.status != 0 && bad.stderr.contains("'a/b' is not accepted"), "\(bad.stderr)")
    }

    @Test("only the manager starts code on a proplet; no proplet reads another's commands or reports for it")
    func aclRules() async throws {
        let generated = try await Self.generate(["--proplet", "pa", "--proplet", "pb", "--anonymous-metrics"])
        defer { try? FileManager.default.removeItem(at: generated.directory) }
        try await withConfiguredMosquitto(directory: generated.directory, port: generated.port) { broker in
            let manager = try await generated.client("manager-manager")
            let proplet = try await generated.client("proplet-pa")
            let other = try await generated.client("proplet-pb")
            let anonymous = try await generated.client(nil)
            let payload = Array("{\"env\":{\"DB_PASSWORD\":\"secret\"}}".utf8)
            func send(_ client: MQTTClient, _ suffix: String, _ body: [UInt8] = payload) async throws {
                try await client.publish(Self.base + suffix, payload: body, qos: .atLeastOnce, retain: false)
            }

            // What the manager receives: proplet messages only on the sender's own and the shared topics.
            let managerInbox = Inbox(try await manager.subscribe(Self.base + "control/#", qos: .atLeastOnce))
            for client in [other, anonymous] {
                for suffix in ["pa/results", "pa/alive", "pa/create"] {
                    try await send(client, "control/proplet/" + suffix)
                }
                try await send(client, "control/manager/pa/start")
                try await send(client, "control/manager/hello")
            }
            try await send(anonymous, "control/proplet/task_metrics")
            try await send(other, "control/proplet/pb/results")
            try await send(other, "control/proplet/task_metrics")
            try await send(other, "control/proplet/metrics")
            // Last wills: B's will on A's topic is dropped by the broker, its will on its own is delivered.
            let credentials = try generated.environment("proplet-pb")
            var wills: [LaunchedProcess] = []
            for (index, will) in ["pa", "pb"].enumerated() {
                wills.append(
                    try await ProcessLauncher.launch(
                        "/usr/bin/mosquitto_sub",
                        arguments: [
                            "-p", "\(generated.port)", "-u", "pb", "-P", credentials["PROPELLER_MQTT_PASSWORD"] ?? "",
                            "-i", "pb-will-\(index)", "-t", Self.base + "control/manager/pb/#",
                            "--will-topic", Self.base + "control/proplet/\(will)/alive", "--will-payload",
                            "will-\(will)",
                        ]
                    )
                )
            }
            try await Task.sleep(for: .milliseconds(700))
            for process in wills {
                process.send(SIGKILL)
                _ = await process.waitForExit(timeout: .seconds(5))
            }
            try await Task.sleep(for: .milliseconds(300))
            try await send(proplet, "control/proplet/pa/alive", Self.end)
            let managerSaw = await managerInbox.task.value.map {
                "\($0.topic) \(String(decoding: $0.payload, as: UTF8.self))"
            }
            let json = String(decoding: payload, as: UTF8.self)
            // Order across clients is not the point (a client may reconnect and resend): the set is.
            #expect(managerSaw.last == Self.base + "control/proplet/pa/alive END")
            #expect(
                managerSaw.sorted()
                    == [
                        Self.base + "control/proplet/pb/results \(json)",
                        Self.base + "control/proplet/task_metrics \(json)",
                        Self.base + "control/proplet/metrics \(json)", Self.base + "control/proplet/pb/alive will-pb",
                        Self.base + "control/proplet/pa/alive END",
                    ].sorted(),
                "log:\n\(broker.log.suffix(1500))"
            )

            // Mosquitto 2.0.11 closes a client's connection after an ACL-denied QoS 1 publish (after its
            // PUBACK): let B and the anonymous client reconnect before they subscribe.
            try await Task.sleep(for: .seconds(1))
            for _ in 0..<100 where ![manager, proplet, other, anonymous].allSatisfy(\.isConnected) {
                try await Task.sleep(for: .milliseconds(50))
            }
            // Reading: proplet B and anonymous subscribe to everything; only A gets A's commands.
            let propletInbox = Inbox(try await proplet.subscribe(Self.base + "control/manager/#", qos: .atLeastOnce))
            let otherInbox = Inbox(try await other.subscribe("m/#", qos: .atLeastOnce))
            let anonymousInbox = Inbox(try await anonymous.subscribe("m/#", qos: .atLeastOnce))
            try await send(manager, "control/manager/pa/start")
            try await send(manager, "control/manager/pa/stop")
            try await send(manager, "control/manager/pb/start")
            try await send(proplet, "metrics/proplet", Self.end)
            try await send(manager, "control/manager/hello", Self.end)
            #expect(
                await propletInbox.topics()
                    == ["pa/start", "pa/stop", "hello"].map { Self.base + "control/manager/" + $0 }
            )
            #expect(await otherInbox.topics() == ["pb/start", "hello"].map { Self.base + "control/manager/" + $0 })
            #expect(await anonymousInbox.topics() == [Self.base + "metrics/proplet"], "anonymous reads metrics only")

            for client in [manager, proplet, other, anonymous] { await client.disconnect() }
        }
    }

    @Test("wrong passwords and anonymous clients are refused; no client takes over another's session")
    func refusedConnections() async throws {
        let generated = try await Self.generate(["--proplet", "pa", "--proplet", "pb"])
        defer { try? FileManager.default.removeItem(at: generated.directory) }
        try await withConfiguredMosquitto(directory: generated.directory, port: generated.port) { _ in
            let url = "mqtt://127.0.0.1:\(generated.port)"
            var wrong = MQTTConfiguration(url: url, clientID: "wrong", username: "pa", password: "guess")
            wrong.maximumReconnectDelay = .milliseconds(200)
            await #expect(throws: MQTTError.self) {
                try await MQTTClient(configuration: wrong, logger: Logger(label: "t")).connect()
            }
            let anonymous = MQTTConfiguration(url: url, clientID: "anon")
            await #expect(throws: MQTTError.self, "anonymous clients are refused without --anonymous-metrics") {
                try await MQTTClient(configuration: anonymous, logger: Logger(label: "t")).connect()
            }
            // Client ids are the usernames: B cannot take over A's session (and so cannot cut A off).
            let proplet = try await generated.client("proplet-pa", clientID: "proplet-pa")
            let intruder = try await generated.client("proplet-pb", clientID: "proplet-pa")
            try await Task.sleep(for: .milliseconds(500))
            #expect(proplet.isConnected && intruder.isConnected)
            #expect(proplet.statistics.reconnects == 0)
            await proplet.disconnect()
            await intruder.disconnect()
        }
    }
}
