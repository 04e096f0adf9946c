import PropellerMQTT
import PropellerTestSupport
import Testing

/// Shared subscriptions (`$share/GROUP/FILTER`), which several managers use to split the proplets'
/// messages (SPEC §1).
@Suite("MQTT shared subscriptions")
struct SharedSubscriptionTests {
    @Test("a shared filter matches what its filter matches, under the message's own topic")
    func matching() {
        #expect(
            TopicFilter.matches("$share/propeller-managers/m/+/c/+/control/proplet/+", "m/d/c/ch/control/proplet/alive")
        )
        #expect(TopicFilter.matches("$share/g/a/#", "a/b/c"))
        #expect(!TopicFilter.matches("$share/g/a/#", "b/a"))
        #expect(!TopicFilter.matches("$share/g", "g"))
        #expect(!TopicFilter.matches("$share/g/a", "$share/g/a"))
    }

    @Test("two members of a group on a real broker each get a share; every message reaches exactly one")
    func splitOverBroker() async throws {
        try await withMosquitto { broker in
            let first = try await MQTTProbe.start(url: broker.url, filter: "$share/managers/split/#", qos: .atLeastOnce)
            let second = try await MQTTProbe.start(
                url: broker.url,
                filter: "$share/managers/split/#",
                qos: .atLeastOnce
            )
            let publisher = try await MQTTTestClient.connected(url: broker.url, name: "publisher")
            for index in 0..<100 {
                try await publisher.publish(
                    "split/\(index % 4)",
                    payload: Array("\(index)".utf8),
                    qos: .atLeastOnce,
                    retain: false
                )
            }
            await publisher.disconnect()
            var received: [String] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while received.count < 100, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                received = (first.messages + second.messages).map { String(decoding: $0.payload, as: UTF8.self) }
            }
            #expect(received.count == 100)
            #expect(Set(received) == Set((0..<100).map { "\($0)" }))
            #expect(!first.messages.isEmpty && !second.messages.isEmpty, "both members got a share")
            #expect((first.messages + second.messages).allSatisfy { $0.topic.hasPrefix("split/") })
            await first.stop()
            await second.stop()
        }
    }
}
