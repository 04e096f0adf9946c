import Foundation
import PropellerCore
import PropellerLauncher
import PropellerMQTT
import PropellerTestSupport
import Testing

@Suite("MQTT last will and malformed input from the wire")
struct MQTTWillAndInputTests {
    @Test("killing a client's process delivers its last will to a subscriber")
    func willOnKilledProcess() async throws {
        try await withMosquitto { broker in
            let probe = try await MQTTProbe.start(url: broker.url, filter: "control/proplet/alive")
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("will-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let output = directory.appendingPathComponent("out").path
            let child = try await ProcessLauncher.launch(
                BinaryLocator.path(of: "propeller-mqtt-bench"),
                arguments: ["will", broker.url, "will-child", "control/proplet/alive", #"{"status":"offline"}"#],
                output: .file(output)
            )
            let deadline = ContinuousClock.now + .seconds(20)
            while (try? String(contentsOfFile: output, encoding: .utf8))?.contains("connected") != true {
                #expect(
                    child.isRunning,
                    "the child exited: \((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")"
                )
                guard child.isRunning, ContinuousClock.now < deadline else { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(probe.messages.isEmpty)
            child.send(SIGKILL)
            await child.waitForExit()
            let messages = try await probe.waitForMessages(count: 1)
            #expect(messages.first?.payload == Array(#"{"status":"offline"}"#.utf8))
            await probe.stop()
        }
    }

    @Test("a clean disconnect does not deliver the will")
    func noWillOnCleanDisconnect() async throws {
        try await withMosquitto { broker in
            let probe = try await MQTTProbe.start(url: broker.url, filter: "will/#")
            let client = try MQTTTestClient.make(url: broker.url, name: "polite") {
                $0.will = PubSubMessage(topic: "will/gone", payload: Array("gone".utf8))
            }
            try await client.connect()
            await client.disconnect()
            let other = try await MQTTTestClient.connected(url: broker.url, name: "sentinel")
            try await other.publish("will/sentinel", payload: [], qos: .atLeastOnce, retain: false)
            let messages = try await probe.waitForMessages(count: 1)
            try await Task.sleep(for: .milliseconds(200))
            #expect(messages.map(\.topic) == ["will/sentinel"])
            #expect(probe.messages.map(\.topic) == ["will/sentinel"])
            await other.disconnect()
            await probe.stop()
        }
    }

    @Test(
        "invalid UTF-8, non-JSON and wrongly shaped JSON arrive as bytes, are rejected by the decoder with a logged reason, and the client keeps running"
    )
    func malformedPayloads() async throws {
        try await withMosquitto { broker in
            let client = try await MQTTTestClient.connected(url: broker.url, name: "decoder")
            let stream = try await client.subscribe("control/proplet/alive", qos: .atLeastOnce)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let invalidUTF8: [UInt8] = [0x7B, 0xFF, 0xFE, 0xC3, 0x28, 0x7D]
            let file = directory.appendingPathComponent("invalid.bin")
            try Data(invalidUTF8).write(to: file)
            let valid =
                #"{"proplet_id":"p1","status":"alive","running_tasks":2,"timestamp":"2026-01-02T03:04:05.000006Z"}"#
            let payloads: [[String]] = [
                ["-f", file.path], ["-m", "not json at all"], ["-m", #"{"proplet_id":5,"status":"sleeping"}"#],
                ["-m", "[1,2,3]"], ["-m", valid],
            ]
            // Published by another client (mosquitto_pub), so the bytes really come off the wire.
            for arguments in payloads {
                let publisher = try await ProcessLauncher.launch(
                    "/usr/bin/mosquitto_pub",
                    arguments: ["-h", "127.0.0.1", "-p", "\(broker.port)", "-q", "1", "-t", "control/proplet/alive"]
                        + arguments
                )
                #expect(await publisher.waitForExit(timeout: .seconds(10)) == 0)
            }
            var received: [PubSubMessage] = []
            for await message in stream {
                received.append(message)
                if received.count == payloads.count { break }
            }
            #expect(received.first?.payload == invalidUTF8)
            #expect(received.dropFirst().first?.payload == Array("not json at all".utf8))

            let recorder = LogRecorder()
            let logger = recorder.logger(label: "test.decoder")
            let decoded = received.map { $0.decode(PropletHeartbeat.self, logger: logger) }
            #expect(decoded.prefix(4).allSatisfy { $0 == nil })
            #expect(decoded.last??.propletID == "p1")
            #expect(decoded.last??.runningTasks == 2)
            let rejections = recorder.records.filter { $0.message == "MQTT message rejected" }
            #expect(rejections.count == 4)
            #expect(rejections.allSatisfy { !($0.metadata["mqtt.reason"] ?? "").isEmpty })
            #expect(rejections.allSatisfy { $0.metadata["mqtt.topic"] == "control/proplet/alive" })

            #expect(client.isConnected)
            try await client.publish(
                "control/proplet/alive",
                payload: Array(valid.utf8),
                qos: .atLeastOnce,
                retain: false
            )
            var iterator = stream.makeAsyncIterator()
            let next = await iterator.next()
            #expect(next?.payload == Array(valid.utf8))
            await client.disconnect()
        }
    }
}
