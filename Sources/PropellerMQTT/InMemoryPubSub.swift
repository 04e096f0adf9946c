import Synchronization

/// An in-process message bus with MQTT filter semantics, for unit tests only. Delivery is immediate
/// and lossless; QoS and retain flags are carried but not otherwise honoured.
public final class InMemoryPubSub: PubSub {
    private struct Subscription {
        var filter: String
        var continuation: AsyncStream<PubSubMessage>.Continuation
    }

    private let subscriptions = Mutex<[UInt64: Subscription]>([:])
    private let nextID = Mutex<UInt64>(0)
    private let published = Mutex<[PubSubMessage]>([])
    private let listeners = Mutex<[AsyncStream<MQTTConnectionEvent>.Continuation]>([])

    public init() {}

    public func publish(_ topic: String, payload: [UInt8], qos: QoS, retain: Bool) async throws {
        let message = PubSubMessage(topic: topic, payload: payload, qos: qos, retain: retain)
        published.withLock { $0.append(message) }
        let targets = subscriptions.withLock { subs in
            subs.values.filter { TopicFilter.matches($0.filter, topic) }.map(\.continuation)
        }
        for continuation in targets { continuation.yield(message) }
    }

    public func subscribe(_ filter: String, qos: QoS) async throws -> AsyncStream<PubSubMessage> {
        let id = nextID.withLock { value in
            value += 1
            return value
        }
        let (stream, continuation) = AsyncStream<PubSubMessage>.makeStream()
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscriptions.withLock { $0.removeValue(forKey: id) }
        }
        subscriptions.withLock { $0[id] = Subscription(filter: filter, continuation: continuation) }
        return stream
    }

    /// Connection changes announced with `announce(_:)`.
    public func connectionEvents() -> AsyncStream<MQTTConnectionEvent> {
        let (stream, continuation) = AsyncStream<MQTTConnectionEvent>.makeStream()
        listeners.withLock { $0.append(continuation) }
        return stream
    }

    /// Tells every `connectionEvents()` stream about a connection change (a simulated reconnect).
    public func announce(_ event: MQTTConnectionEvent) {
        for listener in listeners.withLock({ $0 }) { listener.yield(event) }
    }

    /// Every message published so far, in order.
    public var publishedMessages: [PubSubMessage] { published.withLock { $0 } }
}
