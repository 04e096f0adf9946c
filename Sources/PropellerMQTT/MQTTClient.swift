import Logging
import ServiceLifecycle

/// The real `PubSub`: an MQTT 3.1.1 client over libmosquitto.
///
/// - Connects to `mqtt://` (or `mqtts://` with a CA file), optionally with username and password and a
///   last will; reconnects forever with exponential backoff and restores every subscription after each
///   reconnect.
/// - QoS ≥ 1 messages go through a bounded outbox (see `MQTTConfiguration`): kept while the broker is
///   unreachable and delivered in publish order after reconnect; messages sent but not acknowledged
///   when a connection drops are sent again first (at-least-once: a subscriber may see a duplicate).
///   QoS 0 messages published while disconnected are dropped and counted.
/// - Each `subscribe` returns its own stream; messages are dispatched to every stream whose filter
///   matches, in arrival order. Streams are unbounded: consume them promptly.
///
/// libmosquitto runs on one dedicated thread per client; no call blocks the cooperative pool.
public final class MQTTClient: PubSub {
    private let session: MQTTSession

    /// Creates a client; nothing connects until `connect`. Throws `MQTTError.invalidURL` for a URL
    /// that is not `mqtt://host[:port]` / `mqtts://host[:port]` (mqtts needs `caFile`).
    public init(configuration: MQTTConfiguration, logger: Logger) throws {
        session = try MQTTSession(configuration: configuration, logger: logger)
    }

    deinit {
        session.requestStop()
    }

    /// Starts connecting; the client then reconnects by itself for as long as it runs.
    ///
    /// With `waitForConnection` (default) returns once the broker accepted the first connection, or
    /// throws `MQTTError.connectionRefused` naming the broker for a refusal retrying cannot fix (bad
    /// credentials, not authorised) and stops the client. An unreachable broker is retried with backoff
    /// (logged) and the call keeps waiting; cancel the task to give up. With `waitForConnection: false`
    /// returns at once and keeps retrying in the background, refusals included (logged).
    public func connect(waitForConnection: Bool = true) async throws {
        try session.start()
        if waitForConnection { try await session.waitForFirstConnection() }
    }

    /// Disconnects cleanly (the broker does not publish the will): waits up to `drainTimeout` for
    /// queued QoS ≥ 1 messages to be acknowledged, sends DISCONNECT, stops the network thread and ends
    /// every subscription stream. The client cannot be used afterwards.
    public func disconnect() async {
        let deadline = ContinuousClock.now + session.configuration.drainTimeout
        while session.isConnected, ContinuousClock.now < deadline {
            let statistics = session.statistics
            if statistics.outboxMessages == 0 && statistics.inFlight == 0 { break }
            try? await Task.sleep(for: .milliseconds(5))
        }
        session.requestStop()
        await session.waitUntilStopped()
    }

    /// Whether the broker has accepted the current connection.
    public var isConnected: Bool { session.isConnected }

    /// Counters: published, delivered, dropped, reconnects, outbox and in-flight sizes.
    public var statistics: MQTTStatistics { session.statistics }

    /// Connection changes from now on (connected, disconnected, refused); ends when the client stops.
    public func connectionEvents() -> AsyncStream<MQTTConnectionEvent> {
        session.connectionEvents()
    }

    /// Publishes a message. QoS ≥ 1: queued in the outbox and sent in order as soon as possible (the
    /// call returns once queued, not when acknowledged). QoS 0: sent now if connected, else dropped.
    /// Throws `MQTTError.invalidTopic`, `.payloadTooLarge`, or `.clientStopped` after `disconnect()`.
    public func publish(_ topic: String, payload: [UInt8], qos: QoS, retain: Bool) async throws {
        try session.publish(PubSubMessage(topic: topic, payload: payload, qos: qos, retain: retain))
    }

    /// Subscribes to `filter`. When connected, returns after the broker acknowledged the subscription
    /// (so messages published afterwards arrive); otherwise the subscription is made on connect.
    /// Throws `MQTTError.invalidTopicFilter` or `.clientStopped`.
    public func subscribe(_ filter: String, qos: QoS) async throws -> AsyncStream<PubSubMessage> {
        try await session.subscribe(filter, qos: qos)
    }
}

/// The client as a swift-service-lifecycle `Service`: it belongs to the process's `ServiceGroup`, which
/// keeps it until graceful shutdown and then disconnects it (draining the outbox). `run()` does not
/// connect — whoever owns the order does (the proplet before its service starts, the manager once
/// ingestion has subscribed). List it **first** in the group: services shut down in reverse order, so
/// everything that publishes is finished before the client disconnects.
extension MQTTClient: Service {
    public func run() async throws {
        try? await gracefulShutdown()
        await disconnect()
    }
}
