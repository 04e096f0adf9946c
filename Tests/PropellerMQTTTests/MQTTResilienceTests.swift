import Foundation
import PropellerMQTT
import PropellerTestSupport
import Testing

@Suite("MQTT client against a broker that goes away, refuses, or never was")
struct MQTTResilienceTests {
    @Test("1,000 QoS 1 messages published at a steady rate across a 3 s broker outage all arrive, in order")
    func brokerRestart() async throws {
        try await withMosquitto(options: MosquittoOptions(persistence: true)) { broker in
            // The subscriber keeps a broker session (persisted over the restart), so messages the
            // publisher flushes before the subscriber is back are queued for it, not lost.
            let probe = try await MQTTProbe.start(
                url: broker.url,
                filter: "restart/#",
                clientID: "restart-probe-\(broker.port)",
                cleanSession: false
            )
            let publisher = try MQTTTestClient.make(url: broker.url, name: "restart-publisher")
            try await publisher.connect()
            let outage = Task {
                try await Task.sleep(for: .milliseconds(1500))
                await broker.stop()
                try await Task.sleep(for: .seconds(3))
                try await broker.start()
            }
            var largestOutbox = 0
            for index in 0..<1000 {
                try await publisher.publish(
                    "restart/seq",
                    payload: Array("\(index)".utf8),
                    qos: .atLeastOnce,
                    retain: false
                )
                largestOutbox = max(largestOutbox, publisher.statistics.outboxMessages)
                try await Task.sleep(for: .milliseconds(6))
            }
            try await outage.value
            let messages = try await probe.waitUntil(timeout: .seconds(30), "all 1,000 messages") { messages in
                Set(messages.map(\.payload)).count >= 1000
            }
            let numbers = messages.compactMap { Int(String(decoding: $0.payload, as: UTF8.self)) }
            // At-least-once: a message in flight at the moment of the outage may arrive twice; the
            // first arrival of every number must be in publish order.
            var seen = Set<Int>()
            let firstArrivals = numbers.filter { seen.insert($0).inserted }
            #expect(firstArrivals == Array(0..<1000))
            #expect(publisher.statistics.reconnects >= 1)
            #expect(largestOutbox >= 100, "the outage should have held back many messages")
            #expect(publisher.statistics.droppedFromOutbox == 0)

            // Subscriptions still work after the restart.
            try await publisher.publish("restart/after", payload: Array("after".utf8), qos: .atLeastOnce, retain: false)
            try await probe.waitUntil("the message published after the restart") { $0.last?.topic == "restart/after" }
            await publisher.disconnect()
            await probe.stop()
        }
    }

    @Test("subscriptions are restored after a broker restart that lost every session")
    func resubscribeAfterRestart() async throws {
        try await withMosquitto { broker in
            let subscriber = try await MQTTTestClient.connected(url: broker.url, name: "resubscriber")
            let stream = try await subscriber.subscribe("again/+", qos: .atLeastOnce)
            let events = subscriber.connectionEvents()
            await broker.stop()
            try await broker.start()
            // Wait for the reconnect; the broker (no persistence) knows no subscription now.
            for await event in events where event == .connected(reconnect: true) { break }
            let publisher = try await MQTTTestClient.connected(url: broker.url, name: "publisher")
            // The resubscription is sent right after CONNACK; publish until it has taken effect.
            let received = Task { () -> String? in
                for await message in stream { return message.topic }
                return nil
            }
            var attempts = 0
            while !Task.isCancelled, attempts < 100 {
                try await publisher.publish("again/x", payload: [1], qos: .atLeastOnce, retain: false)
                try await Task.sleep(for: .milliseconds(50))
                attempts += 1
                if subscriber.statistics.delivered > 0 { break }
            }
            #expect(await received.value == "again/x")
            #expect(subscriber.statistics.reconnects == 1)
            await publisher.disconnect()
            await subscriber.disconnect()
        }
    }

    @Test("a wrong password ends connect with a clear error naming the broker")
    func wrongPassword() async throws {
        try await withMosquitto(users: ["proplet": "right"]) { broker in
            let client = try MQTTTestClient.make(url: broker.url) {
                $0.username = "proplet"
                $0.password = "wrong"
            }
            let error = await #expect(throws: MQTTError.self) { try await client.connect() }
            guard case .connectionRefused(let url, let reason) = error else {
                Issue.record("expected connectionRefused, got \(String(describing: error))")
                return
            }
            #expect(url == broker.url)
            #expect(reason.contains("not authori") || reason.contains("username or password"))
            #expect(error?.description.contains(broker.url) == true)
            #expect(!client.isConnected)

            let good = try MQTTTestClient.make(url: broker.url) {
                $0.username = "proplet"
                $0.password = "right"
            }
            try await good.connect()
            #expect(good.isConnected)
            await good.disconnect()
        }
    }

    @Test(
        "with no broker at startup the client retries with backoff, keeps QoS 1 messages, and delivers them once one appears"
    )
    func unreachableAtStartup() async throws {
        try await withMosquitto(options: MosquittoOptions(persistence: true)) { broker in
            let probe = try await MQTTProbe.start(
                url: broker.url,
                filter: "late/#",
                clientID: "late-probe-\(broker.port)",
                cleanSession: false
            )
            await broker.stop()
            let recorder = LogRecorder()
            let client = try MQTTTestClient.make(url: broker.url, name: "late", logger: recorder.logger(label: "late"))
            try await client.connect(waitForConnection: false)
            for index in 0..<10 {
                try await client.publish("late/\(index)", payload: [UInt8(index)], qos: .atLeastOnce, retain: false)
            }
            try await client.publish("late/qos0", payload: [], qos: .atMostOnce, retain: false)
            let deadline = ContinuousClock.now + .seconds(10)
            while client.statistics.failedConnectionAttempts < 3 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let offline = client.statistics
            #expect(offline.failedConnectionAttempts >= 3)
            #expect(offline.outboxMessages == 10)
            #expect(offline.droppedWhileDisconnected == 1)
            #expect(!client.isConnected)
            let retries = recorder.records.filter { $0.message == "MQTT connection failed, retrying" }
            #expect(retries.count >= 2)
            #expect(retries.allSatisfy { $0.level == .warning && $0.metadata["mqtt.broker"] == broker.url })

            try await broker.start()
            let messages = try await probe.waitForMessages(count: 10, timeout: .seconds(15))
            #expect(messages.map(\.topic) == (0..<10).map { "late/\($0)" })
            #expect(client.isConnected)
            #expect(client.statistics.reconnects == 0)
            await client.disconnect()
            await probe.stop()
        }
    }

    @Test("past its bound the outbox drops the oldest messages, counts them, and delivers the rest in order")
    func outboxBound() async throws {
        try await withMosquitto(options: MosquittoOptions(persistence: true)) { broker in
            let probe = try await MQTTProbe.start(
                url: broker.url,
                filter: "bound/#",
                clientID: "bound-probe-\(broker.port)",
                cleanSession: false
            )
            await broker.stop()
            let client = try MQTTTestClient.make(url: broker.url, name: "bounded") {
                $0.outboxMessageLimit = 5
                $0.outboxByteLimit = 1000
            }
            try await client.connect(waitForConnection: false)
            for index in 0..<8 {
                try await client.publish("bound/\(index)", payload: [UInt8(index)], qos: .atLeastOnce, retain: false)
            }
            // 600 + 500 bytes exceed 1,000: the 600-byte message goes, the 500-byte one stays.
            try await client.publish(
                "bound/big1",
                payload: Array(repeating: 1, count: 600),
                qos: .atLeastOnce,
                retain: false
            )
            try await client.publish(
                "bound/big2",
                payload: Array(repeating: 2, count: 500),
                qos: .atLeastOnce,
                retain: false
            )
            let offline = client.statistics
            #expect(offline.droppedFromOutbox == 3 + 2 + 4)
            #expect(offline.outboxMessages == 1)
            #expect(offline.outboxBytes == 500)

            try await broker.start()
            let messages = try await probe.waitForMessages(count: 1, timeout: .seconds(15))
            try await Task.sleep(for: .milliseconds(300))
            #expect(probe.messages.map(\.topic) == ["bound/big2"])
            #expect(messages.first?.payload.count == 500)
            await client.disconnect()
            await probe.stop()
        }
    }
}
