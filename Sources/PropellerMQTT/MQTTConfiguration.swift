/// How an `MQTTClient` connects and behaves. Every default lives here.
public struct MQTTConfiguration: Sendable {
    /// The broker: `mqtt://host[:port]` (or `tcp://`, default port 1883) or `mqtts://host[:port]` (or
    /// `ssl://`, default port 8883, TLS verified with `caFile`).
    public var url: String
    /// Username for the broker, or nil for anonymous access (default nil).
    public var username: String?
    /// Password for the broker (default nil).
    public var password: String?
    /// The MQTT client identifier. Must be unique per broker: a second client with the same identifier
    /// disconnects the first.
    public var clientID: String
    /// The last will: published by the broker when this client's connection ends without a clean
    /// `disconnect()` (default nil: no will).
    public var will: PubSubMessage?
    /// Keep-alive interval in seconds (default 10). The broker treats the client as gone after 1.5×
    /// this without traffic.
    public var keepAlive: Int
    /// Whether the broker discards this client's session on connect (default true). With false and a
    /// stable `clientID`, the broker keeps subscriptions and queues QoS ≥ 1 messages for the client
    /// while it is offline (and across broker restarts when the broker has persistence on).
    public var cleanSession: Bool
    /// Most QoS ≥ 1 messages kept while they cannot be sent (default 100,000). Past this bound the
    /// oldest queued message is dropped, counted and logged.
    public var outboxMessageLimit: Int
    /// Most payload bytes kept in the outbox (default 64 MiB); same drop rule as the count bound.
    public var outboxByteLimit: Int
    /// Most QoS ≥ 1 messages sent but not yet acknowledged (default 20, libmosquitto's own default).
    public var inflightWindow: Int
    /// First delay before reconnecting after a failure (default 100 ms); doubles up to
    /// `maximumReconnectDelay` (default 5 s) and resets after a successful connection.
    public var minimumReconnectDelay: Duration
    /// The longest delay between reconnect attempts (default 5 s).
    public var maximumReconnectDelay: Duration
    /// How long `disconnect()` waits for queued QoS ≥ 1 messages to be acknowledged and for QoS 0
    /// messages still buffered in libmosquitto to be written (default 2 s).
    public var drainTimeout: Duration
    /// CA certificate file (PEM) used to verify the broker with `mqtts://` (default nil: the system's
    /// trusted certificates in `/etc/ssl/certs`). The broker's certificate must also name the host of
    /// `url`.
    public var caFile: String?
    /// The client's own certificate (PEM) for brokers that require one (`require_certificate true`);
    /// default nil. Needs `keyFile`.
    public var certificateFile: String?
    /// The private key (PEM, unencrypted) of `certificateFile`; default nil.
    public var keyFile: String?

    /// A configuration with every default; `url` and `clientID` are required.
    public init(
        url: String,
        clientID: String,
        username: String? = nil,
        password: String? = nil,
        will: PubSubMessage? = nil
    ) {
        self.url = url
        self.clientID = clientID
        self.username = username
        self.password = password
        self.will = will
        self.keepAlive = 10
        self.cleanSession = true
        self.outboxMessageLimit = 100_000
        self.outboxByteLimit = 64 * 1024 * 1024
        self.inflightWindow = 20
        self.minimumReconnectDelay = .milliseconds(100)
        self.maximumReconnectDelay = .seconds(5)
        self.drainTimeout = .seconds(2)
        self.caFile = nil
        self.certificateFile = nil
        self.keyFile = nil
    }
}
