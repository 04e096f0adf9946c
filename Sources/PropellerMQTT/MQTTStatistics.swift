/// Counters of one `MQTTClient`, for logs and metrics. Counts start at zero when the client is made.
public struct MQTTStatistics: Sendable, Hashable {
    /// Messages the broker acknowledged (QoS ≥ 1) or that were written to the socket (QoS 0).
    public var published: Int = 0
    /// Messages received from the broker (each counted once, however many subscriptions matched).
    public var delivered: Int = 0
    /// QoS ≥ 1 messages dropped because the outbox was over its count or byte bound.
    public var droppedFromOutbox: Int = 0
    /// QoS 0 messages dropped because there was no connection.
    public var droppedWhileDisconnected: Int = 0
    /// Successful connections after the first one.
    public var reconnects: Int = 0
    /// Failed connection attempts (unreachable broker, refusals, lost handshakes).
    public var failedConnectionAttempts: Int = 0
    /// QoS ≥ 1 messages waiting to be sent now.
    public var outboxMessages: Int = 0
    /// Payload bytes of the messages waiting in the outbox now.
    public var outboxBytes: Int = 0
    /// QoS ≥ 1 messages sent but not acknowledged yet.
    public var inFlight: Int = 0

    /// All counters zero.
    public init() {}
}
