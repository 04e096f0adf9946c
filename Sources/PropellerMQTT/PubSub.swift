import PropellerCore

/// MQTT delivery guarantee.
public enum QoS: Int32, Sendable, Hashable, Codable {
    case atMostOnce = 0
    case atLeastOnce = 1
    case exactlyOnce = 2
}

/// One message as received from (or published to) the broker. The payload is raw bytes: it may be
/// anything the wire carried, and the decoder decides whether it is valid.
public struct PubSubMessage: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: QoS
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: QoS = .atLeastOnce, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// Publish/subscribe as the services use it. `MQTTClient` is the real implementation;
/// `InMemoryPubSub` is for unit tests.
public protocol PubSub: Sendable {
    /// Publishes a message. With QoS ≥ 1 the message is kept (in order, within the outbox bounds)
    /// while the broker is unreachable and delivered after reconnect.
    func publish(_ topic: String, payload: [UInt8], qos: QoS, retain: Bool) async throws

    /// Subscribes to a topic filter (`+` and `#` wildcards). Every message whose topic matches arrives
    /// on the returned stream until the stream is dropped or the client shuts down. Subscriptions are
    /// restored after every reconnect.
    func subscribe(_ filter: String, qos: QoS) async throws -> AsyncStream<PubSubMessage>

    /// Connection changes from now on (services re-announce themselves after a reconnect). The
    /// default is a stream that ends at once, for implementations that never reconnect.
    func connectionEvents() -> AsyncStream<MQTTConnectionEvent>
}

extension PubSub {
    /// A stream that ends at once: this implementation reports no connection changes.
    public func connectionEvents() -> AsyncStream<MQTTConnectionEvent> {
        AsyncStream { $0.finish() }
    }

    /// Publishes a value encoded as JSON with `WireCoding`.
    public func publish(_ topic: String, json value: some Encodable, qos: QoS, retain: Bool = false) async throws {
        try await publish(topic, payload: Array(try WireCoding.encode(value)), qos: qos, retain: retain)
    }
}

/// MQTT topic-filter matching (MQTT 3.1.1 §4.7).
public enum TopicFilter {
    /// Whether `topic` matches `filter`: `+` matches one level, a trailing `#` matches any remaining
    /// levels (including none). Topics starting with `$` never match a filter starting with a wildcard.
    /// A shared subscription (`$share/GROUP/FILTER`, MQTT 5 §4.8.2) matches what its FILTER matches:
    /// the broker delivers each message to one member of the group, under its own topic.
    public static func matches(_ filter: String, _ topic: String) -> Bool {
        if filter.hasPrefix("$share/") {
            let parts = filter.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
            return parts.count == 3 && matches(String(parts[2]), topic)
        }
        if topic.hasPrefix("$") && (filter.hasPrefix("+") || filter.hasPrefix("#")) { return false }
        let filterLevels = filter.split(separator: "/", omittingEmptySubsequences: false)
        let topicLevels = topic.split(separator: "/", omittingEmptySubsequences: false)
        var index = 0
        while index < filterLevels.count {
            let level = filterLevels[index]
            if level == "#" { return index == filterLevels.count - 1 }
            guard index < topicLevels.count else { return false }
            if level != "+" && level != topicLevels[index] { return false }
            index += 1
        }
        return index == topicLevels.count
    }
}
