/// Everything an `MQTTSession` shares between callers and its network thread, behind one `Mutex`.
struct MQTTSessionState {
    /// Where the connection is.
    enum Phase {
        /// `connect()` not called yet.
        case idle
        /// Connecting, or waiting to reconnect.
        case connecting
        /// CONNACK accepted; publishing and subscribing go straight to the broker.
        case connected
        /// `disconnect()` finished, or the network thread ended.
        case stopped
    }

    /// One `subscribe` call's stream.
    struct Subscription {
        var filter: String
        var qos: QoS
        var continuation: AsyncStream<PubSubMessage>.Continuation
    }

    var phase = Phase.idle
    var threadStarted = false
    var stopRequested = false
    var disconnectSent = false
    /// The libmosquitto handle of the current connection attempt; nil between attempts. Only the
    /// network thread creates and destroys it, and only while holding the lock.
    var handle: MosquittoHandle?
    var outbox: MQTTOutbox
    /// Messages handed to libmosquitto and not acknowledged yet, by message id, with their send order.
    var inFlight: [Int32: (sequence: UInt64, message: PubSubMessage)] = [:]
    var nextSequence: UInt64 = 0
    var subscriptions: [UInt64: Subscription] = [:] {
        didSet { routes.removeAll(keepingCapacity: true) }
    }
    /// Which streams each topic seen recently goes to, so a message costs one dictionary lookup
    /// instead of matching every filter. Cleared whenever the subscriptions change, and when full.
    private var routes: [String: [AsyncStream<PubSubMessage>.Continuation]] = [:]
    var nextSubscriptionID: UInt64 = 0
    /// `subscribe` calls waiting for their SUBACK, by message id.
    var subackWaiters: [Int32: [CheckedContinuation<Void, Never>]] = [:]
    /// `connect(waitForConnection: true)` calls waiting for the first connection.
    var connectWaiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    /// `disconnect()` calls waiting for the network thread to end.
    var stopWaiters: [CheckedContinuation<Void, Never>] = []
    var everConnected = false
    /// The definitive refusal of the latest attempt, if any.
    var refusal: MQTTError?
    var statistics = MQTTStatistics()
    var connectionListeners: [UInt64: AsyncStream<MQTTConnectionEvent>.Continuation] = [:]

    init(outbox: MQTTOutbox) {
        self.outbox = outbox
    }

    /// The streams whose filter matches `topic`.
    mutating func streams(for topic: String) -> [AsyncStream<PubSubMessage>.Continuation] {
        if let cached = routes[topic] { return cached }
        let matching = subscriptions.values.filter { TopicFilter.matches($0.filter, topic) }.map(\.continuation)
        if routes.count >= 4096 { routes.removeAll(keepingCapacity: true) }
        routes[topic] = matching
        return matching
    }

    /// Distinct filters with the highest QoS any subscription asked for.
    var filtersToSubscribe: [String: QoS] {
        var filters: [String: QoS] = [:]
        for subscription in subscriptions.values {
            let current = filters[subscription.filter]?.rawValue ?? -1
            if subscription.qos.rawValue > current { filters[subscription.filter] = subscription.qos }
        }
        return filters
    }
}

/// A change of the client's connection, for services that react to it (e.g. re-announce themselves).
public enum MQTTConnectionEvent: Sendable, Hashable {
    /// The broker accepted the connection; `reconnect` is false for the first one.
    case connected(reconnect: Bool)
    /// The connection ended; the client reconnects unless it was disconnected on purpose.
    case disconnected(reason: String)
    /// The broker refused the connection (the reason says why).
    case refused(reason: String)
}

/// A libmosquitto handle (`struct mosquitto *`). libmosquitto's publish, subscribe and disconnect are
/// thread-safe in threaded mode; creation and destruction happen only on the network thread, under
/// the session lock, which is what makes sharing the pointer sound.
struct MosquittoHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
