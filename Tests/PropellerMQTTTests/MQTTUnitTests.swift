import Logging
import Testing

@testable import PropellerMQTT

@Suite("MQTT pieces without a broker")
struct MQTTUnitTests {
    @Test(
        "broker URLs parse with default ports",
        arguments: [
            ("mqtt://127.0.0.1", "127.0.0.1", 1883, false), ("mqtt://broker.local:1999", "broker.local", 1999, false),
            ("mqtts://example.com", "example.com", 8883, true), ("tcp://h:1", "h", 1, false),
            ("mqtt://[::1]:1884", "::1", 1884, false),
        ]
    )
    func parsesURLs(url: String, host: String, port: Int, tls: Bool) throws {
        let address = try MQTTBrokerAddress(url: url)
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.usesTLS == tls)
    }

    @Test(
        "bad broker URLs are refused with what is accepted",
        arguments: [
            ("http://h:1883", "scheme 'http' is not supported"), ("mqtt://", "host is missing"),
            ("mqtt://u:p@h", "username and password in the configuration"),
            ("mqtt://h:70000", "port must be from 1 to 65535"),
            ("mqtt://h/x", "path or query"), ("broker:1883", "not supported"),
        ]
    )
    func refusesURLs(url: String, fragment: String) {
        #expect {
            _ = try MQTTBrokerAddress(url: url)
        } throws: { error in
            "\(error)".contains(fragment) && "\(error)".contains(url)
        }
    }

    @Test("mqtts without a CA file is accepted: the system's trusted certificates verify the broker")
    func mqttsUsesSystemTrustWithoutCAFile() throws {
        let client = try MQTTClient(
            configuration: MQTTConfiguration(url: "mqtts://h", clientID: "c"),
            logger: Logger(label: "t")
        )
        #expect(!client.isConnected)
    }

    @Test("the outbox keeps order, drops the oldest past its count bound, and counts bytes")
    func outboxCountBound() {
        var outbox = MQTTOutbox(messageLimit: 3, byteLimit: 1000)
        var dropped = 0
        for index in 0..<5 { dropped += outbox.append(PubSubMessage(topic: "t/\(index)", payload: [UInt8(index)])) }
        #expect(dropped == 2)
        #expect(outbox.count == 3)
        #expect(outbox.bytes == 3)
        outbox.prepend([PubSubMessage(topic: "t/resent", payload: [9, 9])])
        var topics: [String] = []
        while let message = outbox.removeFirst() { topics.append(message.topic) }
        #expect(topics == ["t/resent", "t/2", "t/3", "t/4"])
        #expect(outbox.bytes == 0)
    }

    @Test("the outbox byte bound drops old messages, and a message larger than the bound itself")
    func outboxByteBound() {
        var outbox = MQTTOutbox(messageLimit: 100, byteLimit: 10)
        #expect(outbox.append(PubSubMessage(topic: "a", payload: .init(repeating: 0, count: 6))) == 0)
        #expect(outbox.append(PubSubMessage(topic: "b", payload: .init(repeating: 0, count: 6))) == 1)
        #expect(outbox.first?.topic == "b")
        #expect(outbox.append(PubSubMessage(topic: "huge", payload: .init(repeating: 0, count: 11))) == 1)
        #expect(outbox.count == 1)
        #expect(outbox.bytes == 6)
    }

    @Test("the outbox stays correct across many appends and removals")
    func outboxCompaction() {
        var outbox = MQTTOutbox(messageLimit: 10_000, byteLimit: 1 << 20)
        var next = 0
        var expected = 0
        for round in 0..<50 {
            for _ in 0..<100 {
                _ = outbox.append(PubSubMessage(topic: "\(next)", payload: [1]))
                next += 1
            }
            for _ in 0..<(round % 2 == 0 ? 90 : 110) {
                guard let message = outbox.removeFirst() else { break }
                #expect(message.topic == "\(expected)")
                expected += 1
            }
        }
        #expect(outbox.count == next - expected)
        #expect(outbox.bytes == next - expected)
    }

    @Test("the in-memory bus delivers by filter and records what was published")
    func inMemoryBus() async throws {
        let bus = InMemoryPubSub()
        let stream = try await bus.subscribe("m/+/x", qos: .atLeastOnce)
        try await bus.publish("m/1/x", payload: [1], qos: .atLeastOnce, retain: false)
        try await bus.publish("m/1/y", payload: [2], qos: .atLeastOnce, retain: false)
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next()?.payload == [1])
        #expect(bus.publishedMessages.map(\.topic) == ["m/1/x", "m/1/y"])
    }
}
