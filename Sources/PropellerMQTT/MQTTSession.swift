import CMosquitto
import Logging
import Synchronization

/// The engine behind `MQTTClient`: the outbox, in-flight tracking, subscriptions and the state the
/// network thread shares with callers. Callers never block: every lock is held only for short,
/// non-blocking libmosquitto calls (`mosquitto_publish` and `mosquitto_subscribe` only queue a packet
/// and wake the network thread, because the handle is in threaded mode).
final class MQTTSession: Sendable {
    let configuration: MQTTConfiguration
    let address: MQTTBrokerAddress
    let logger: Logger
    let state: Mutex<MQTTSessionState>
    /// Mirrors `state.inFlight.count` (raised before each QoS ≥ 1 hand-over) so the publish callback
    /// can skip the lock for QoS 0 messages when nothing else is in flight.
    let inFlightCount = Atomic<Int>(0)
    /// QoS 0 messages written while nothing was in flight (counted without the lock).
    let lockFreePublished = Atomic<Int>(0)

    init(configuration: MQTTConfiguration, logger: Logger) throws(MQTTError) {
        MosquittoLibrary.initialized
        self.address = try MQTTBrokerAddress(url: configuration.url)
        if (configuration.certificateFile == nil) != (configuration.keyFile == nil) {
            throw .configurationRejected(
                url: configuration.url,
                reason: "a client certificate needs its key and a key its certificate (certificateFile and keyFile)"
            )
        }
        if !address.usesTLS && (configuration.caFile != nil || configuration.certificateFile != nil) {
            throw .configurationRejected(
                url: configuration.url,
                reason: "TLS files are set but the URL is not mqtts:// (or ssl://): the connection would be plain"
            )
        }
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "mqtt.broker"] = .string(configuration.url)
        logger[metadataKey: "mqtt.client_id"] = .string(configuration.clientID)
        self.logger = logger
        let outbox = MQTTOutbox(
            messageLimit: configuration.outboxMessageLimit,
            byteLimit: configuration.outboxByteLimit
        )
        self.state = Mutex(MQTTSessionState(outbox: outbox))
    }

    var url: String { configuration.url }

    // MARK: Publishing

    func publish(_ message: PubSubMessage) throws(MQTTError) {
        guard Self.isValidUTF8Topic(message.topic),
            mosquitto_pub_topic_check(message.topic) == MOSQ_ERR_SUCCESS.rawValue
        else { throw .invalidTopic(url: url, topic: message.topic) }
        guard message.payload.count <= 268_435_455 else {
            throw .payloadTooLarge(url: url, bytes: message.payload.count)
        }
        let dropped: Int = try state.withLock { (state) throws(MQTTError) -> Int in
            if state.phase == .stopped || state.stopRequested { throw .clientStopped(url: url) }
            if message.qos == .atMostOnce {
                guard state.phase == .connected, let handle = state.handle?.pointer else {
                    state.statistics.droppedWhileDisconnected += 1
                    return 0
                }
                let code = mosquitto_publish(
                    handle,
                    nil,
                    message.topic,
                    Int32(message.payload.count),
                    message.payload,
                    0,
                    message.retain
                )
                if code != MOSQ_ERR_SUCCESS.rawValue { state.statistics.droppedWhileDisconnected += 1 }
                return 0
            }
            let dropped = state.outbox.append(message)
            state.statistics.droppedFromOutbox += dropped
            pump(&state)
            return dropped
        }
        if dropped > 0 {
            logger.warning(
                "MQTT outbox full, dropped oldest messages",
                metadata: [
                    "mqtt.dropped": "\(dropped)", "mqtt.outbox_limit": "\(configuration.outboxMessageLimit)",
                    "mqtt.outbox_byte_limit": "\(configuration.outboxByteLimit)",
                ]
            )
        }
    }

    /// Hands waiting messages to libmosquitto, oldest first, while connected and the in-flight window
    /// has room. Called with the lock held, from callers and from callbacks.
    func pump(_ state: inout MQTTSessionState) {
        guard state.phase == .connected, let handle = state.handle?.pointer else { return }
        while state.inFlight.count < configuration.inflightWindow, let message = state.outbox.first {
            var mid: Int32 = 0
            // Raised first: the acknowledgement may arrive before this function returns.
            inFlightCount.add(1, ordering: .sequentiallyConsistent)
            let code = mosquitto_publish(
                handle,
                &mid,
                message.topic,
                Int32(message.payload.count),
                message.payload,
                message.qos.rawValue,
                message.retain
            )
            if code != MOSQ_ERR_SUCCESS.rawValue { inFlightCount.subtract(1, ordering: .sequentiallyConsistent) }
            if code == MOSQ_ERR_NO_CONN.rawValue { return }
            _ = state.outbox.removeFirst()
            if code != MOSQ_ERR_SUCCESS.rawValue {
                state.statistics.droppedFromOutbox += 1
                logger.error(
                    "MQTT publish rejected by libmosquitto, message dropped",
                    metadata: [
                        "mqtt.topic": "\(message.topic)", "mqtt.error": "\(MosquittoLibrary.describe(error: code))",
                    ]
                )
                continue
            }
            state.inFlight[mid] = (state.nextSequence, message)
            state.nextSequence += 1
        }
    }

    // MARK: Subscribing

    func subscribe(_ filter: String, qos: QoS) async throws(MQTTError) -> AsyncStream<PubSubMessage> {
        guard Self.isValidUTF8Topic(filter), mosquitto_sub_topic_check(filter) == MOSQ_ERR_SUCCESS.rawValue else {
            throw .invalidTopicFilter(url: url, filter: filter)
        }
        let (stream, continuation) = AsyncStream<PubSubMessage>.makeStream()
        let id = try state.withLock { (state) throws(MQTTError) -> UInt64 in
            if state.phase == .stopped || state.stopRequested { throw .clientStopped(url: url) }
            state.nextSubscriptionID += 1
            state.subscriptions[state.nextSubscriptionID] = .init(
                filter: filter,
                qos: qos,
                continuation: continuation
            )
            return state.nextSubscriptionID
        }
        continuation.onTermination = { [weak self] _ in self?.removeSubscription(id) }
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            state.withLock { state in
                guard state.phase == .connected, let handle = state.handle?.pointer else {
                    // Subscribed on the next CONNACK, with every other filter.
                    return waiter.resume()
                }
                var mid: Int32 = 0
                if mosquitto_subscribe(handle, &mid, filter, qos.rawValue) == MOSQ_ERR_SUCCESS.rawValue {
                    state.subackWaiters[mid, default: []].append(waiter)
                } else {
                    waiter.resume()
                }
            }
        }
        return stream
    }

    /// Drops a local subscription. With a clean session the broker is told too; with a persistent session
    /// (`cleanSession == false`) the broker keeps the subscription, so it goes on queueing messages while
    /// this client is away (a service shutting down ends its streams before it disconnects).
    private func removeSubscription(_ id: UInt64) {
        let persistent = !configuration.cleanSession
        state.withLock { state in
            guard let removed = state.subscriptions.removeValue(forKey: id) else { return }
            let stillUsed = state.subscriptions.values.contains { $0.filter == removed.filter }
            if !stillUsed, !persistent, state.phase == .connected, let handle = state.handle?.pointer {
                _ = mosquitto_unsubscribe(handle, nil, removed.filter)
            }
        }
    }

    /// A stream of connection changes, from now on.
    func connectionEvents() -> AsyncStream<MQTTConnectionEvent> {
        let (stream, continuation) = AsyncStream<MQTTConnectionEvent>.makeStream()
        let id = state.withLock { state in
            state.nextSubscriptionID += 1
            state.connectionListeners[state.nextSubscriptionID] = continuation
            return state.nextSubscriptionID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.connectionListeners.removeValue(forKey: id) }
        }
        return stream
    }

    /// 1 to 65,535 bytes of UTF-8 that MQTT accepts (no NUL, no surrogates, no control characters
    /// that libmosquitto refuses).
    private static func isValidUTF8Topic(_ topic: String) -> Bool {
        let length = topic.utf8.count
        guard length > 0, length <= 65_535 else { return false }
        return mosquitto_validate_utf8(topic, Int32(length)) == MOSQ_ERR_SUCCESS.rawValue
    }

    // MARK: Observing

    var isConnected: Bool { state.withLock { $0.phase == .connected } }

    var statistics: MQTTStatistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.published += lockFreePublished.load(ordering: .relaxed)
            statistics.outboxMessages = state.outbox.count
            statistics.outboxBytes = state.outbox.bytes
            statistics.inFlight = state.inFlight.count
            return statistics
        }
    }
}
