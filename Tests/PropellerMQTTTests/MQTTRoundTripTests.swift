import PropellerMQTT
import PropellerTestSupport
import Testing

@Suite("MQTT round trips through a real broker")
struct MQTTRoundTripTests {
    @Test("messages arrive intact and in order at every QoS", arguments: [QoS.atMostOnce, .atLeastOnce, .exactlyOnce])
    func roundTrip(qos: QoS) async throws {
        try await withMosquitto { broker in
            let probe = try await MQTTProbe.start(url: broker.url, filter: "rt/#", qos: qos)
            let publisher = try await MQTTTestClient.connected(url: broker.url, name: "publisher")
            for index in 0..<200 {
                try await publisher.publish(
                    "rt/\(index % 3)",
                    payload: Array("message \(index)".utf8),
                    qos: qos,
                    retain: false
                )
            }
            let messages = try await probe.waitForMessages(count: 200)
            #expect(messages.count == 200)
            #expect(messages.map { String(decoding: $0.payload, as: UTF8.self) } == (0..<200).map { "message \($0)" })
            #expect(messages.map(\.topic) == (0..<200).map { "rt/\($0 % 3)" })
            #expect(messages.allSatisfy { $0.qos == qos })
            await publisher.disconnect()  // waits for the last acknowledgements
            #expect(publisher.statistics.published == 200)
            await probe.stop()
        }
    }

    @Test("the wildcard filter m/+/c/+/metrics/# matches exactly the topics it should")
    func wildcardFilter() async throws {
        try await withMosquitto { broker in
            let probe = try await MQTTProbe.start(url: broker.url, filter: "m/+/c/+/metrics/#")
            let publisher = try await MQTTTestClient.connected(url: broker.url)
            let matching = [
                "m/domain1/c/channel1/metrics", "m/d/c/ch/metrics/proplet", "m/d/c/ch/metrics/a/b/c",
                "m//c//metrics", "m/d/c/ch/metrics/",
            ]
            let notMatching = [
                "m/d/c/ch/metric", "m/d/x/ch/metrics", "m/d/e/c/ch/metrics", "n/d/c/ch/metrics",
                "m/d/c/metrics", "m/d/c/ch/control/metrics", "/m/d/c/ch/metrics", "m/d/c/ch/metricsx",
            ]
            for topic in notMatching + matching {
                try await publisher.publish(topic, payload: Array(topic.utf8), qos: .atLeastOnce, retain: false)
            }
            // Sentinel: once it arrives, everything published before it has been routed.
            try await publisher.publish("m/end/c/end/metrics/end", payload: [], qos: .atLeastOnce, retain: false)
            let messages = try await probe.waitUntil("the sentinel") { $0.last?.topic == "m/end/c/end/metrics/end" }
            #expect(Set(messages.dropLast().map(\.topic)) == Set(matching))
            #expect(messages.count == matching.count + 1)
            #expect(matching.allSatisfy { TopicFilter.matches("m/+/c/+/metrics/#", $0) })
            #expect(!notMatching.contains { TopicFilter.matches("m/+/c/+/metrics/#", $0) })
            await publisher.disconnect()
            await probe.stop()
        }
    }

    @Test("a 1 MiB payload of arbitrary bytes and an empty payload arrive intact")
    func largeAndEmptyPayloads() async throws {
        try await withMosquitto { broker in
            let probe = try await MQTTProbe.start(url: broker.url, filter: "big/+")
            let publisher = try await MQTTTestClient.connected(url: broker.url)
            let large = [UInt8].random(count: 1024 * 1024)
            try await publisher.publish("big/one", payload: large, qos: .atLeastOnce, retain: false)
            try await publisher.publish("big/empty", payload: [], qos: .exactlyOnce, retain: false)
            let messages = try await probe.waitForMessages(count: 2, timeout: .seconds(20))
            #expect(messages[0].payload == large)
            #expect(messages[1].payload.isEmpty)
            await publisher.disconnect()
            await probe.stop()
        }
    }

    @Test("a retained message reaches a subscriber that subscribes later")
    func retained() async throws {
        try await withMosquitto { broker in
            let publisher = try await MQTTTestClient.connected(url: broker.url)
            try await publisher.publish("state/x", payload: Array("on".utf8), qos: .atLeastOnce, retain: true)
            await publisher.disconnect()
            let probe = try await MQTTProbe.start(url: broker.url, filter: "state/#")
            let messages = try await probe.waitForMessages(count: 1)
            #expect(messages.first?.payload == Array("on".utf8))
            #expect(messages.first?.retain == true)
            await probe.stop()
        }
    }

    @Test("several subscriptions on one client each receive what their filter matches")
    func dispatchByFilter() async throws {
        try await withMosquitto { broker in
            let client = try await MQTTTestClient.connected(url: broker.url)
            let all = try await client.subscribe("d/#", qos: .atLeastOnce)
            let onlyA = try await client.subscribe("d/a", qos: .atLeastOnce)
            for topic in ["d/a", "d/b", "d/a"] {
                try await client.publish(topic, payload: Array(topic.utf8), qos: .atLeastOnce, retain: false)
            }
            var allTopics: [String] = []
            for await message in all {
                allTopics.append(message.topic)
                if allTopics.count == 3 { break }
            }
            var aTopics: [String] = []
            for await message in onlyA {
                aTopics.append(message.topic)
                if aTopics.count == 2 { break }
            }
            #expect(allTopics == ["d/a", "d/b", "d/a"])
            #expect(aTopics == ["d/a", "d/a"])
            await client.disconnect()
        }
    }

    @Test("invalid topics and filters are rejected with an error naming them")
    func invalidTopics() async throws {
        try await withMosquitto { broker in
            let client = try await MQTTTestClient.connected(url: broker.url)
            await #expect(throws: MQTTError.invalidTopic(url: broker.url, topic: "a/+/b")) {
                try await client.publish("a/+/b", payload: [], qos: .atLeastOnce, retain: false)
            }
            await #expect(throws: MQTTError.invalidTopic(url: broker.url, topic: "")) {
                try await client.publish("", payload: [], qos: .atMostOnce, retain: false)
            }
            await #expect(throws: MQTTError.invalidTopicFilter(url: broker.url, filter: "a/#/b")) {
                _ = try await client.subscribe("a/#/b", qos: .atLeastOnce)
            }
            #expect(client.isConnected)
            await client.disconnect()
            await #expect(throws: MQTTError.clientStopped(url: broker.url)) {
                try await client.publish("a", payload: [], qos: .atLeastOnce, retain: false)
            }
        }
    }
}
