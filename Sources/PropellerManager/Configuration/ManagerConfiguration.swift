import PropellerCore

/// Everything the manager can be configured with, with every default in one place (SPEC §6).
///
/// `init(environment:)` reads the variables of SPEC §6 plus the manager's own (documented on each
/// property); a value that does not parse is a startup error naming the variable.
public struct ManagerConfiguration: Sendable, Hashable {
    /// Where samples and tasks are kept.
    public enum Storage: String, Sendable, Hashable, CaseIterable {
        case sqlite, memory, postgres
    }

    /// `MANAGER_HTTP_HOST`. Default `127.0.0.1`.
    public var httpHost = "127.0.0.1"
    /// `MANAGER_HTTP_PORT`, 0…65535 (0 = any free port, logged at startup). Default 7070.
    public var httpPort = 7070
    /// `PROPELLER_MQTT_URL`: `mqtt://host:port` (or `tcp://`; `mqtts://` or `ssl://` for TLS). Default
    /// `mqtt://127.0.0.1:1883`.
    public var mqttURL = "mqtt://127.0.0.1:1883"
    /// `PROPELLER_MQTT_USERNAME`. Default unset.
    public var mqttUsername: String?
    /// `PROPELLER_MQTT_PASSWORD`. Default unset.
    public var mqttPassword: String?
    /// `PROPELLER_MQTT_CA_FILE`: CA (PEM) verifying an `mqtts://` broker. Default unset: the system's
    /// trusted certificates.
    public var mqttCAFile: String?
    /// `PROPELLER_MQTT_CERT_FILE`: the manager's client certificate (PEM). Default unset.
    public var mqttCertificateFile: String?
    /// `PROPELLER_MQTT_KEY_FILE`: the key of `mqttCertificateFile` (PEM). Default unset.
    public var mqttKeyFile: String?
    /// `PROPELLER_DOMAIN_ID`. Default `default`.
    public var domainID = "default"
    /// `PROPELLER_CHANNEL_ID`. Default `default`.
    public var channelID = "default"
    /// `MANAGER_MQTT_CLIENT_ID`: the manager's MQTT client id. Default (nil) is
    /// `propeller-manager-{domain}-{channel}`. The id is stable and the session persistent, so the broker
    /// queues QoS 1 samples and results for the manager while it restarts or reconnects; give each manager
    /// sharing a broker, domain and channel its own id. (Managers on PostgreSQL share a subscription and
    /// use a clean session instead, see `ManagerApplication.makeMQTTClient`.)
    public var mqttClientID: String?

    /// The MQTT client id in use: `mqttClientID`, else `propeller-manager-{domain}-{channel}`, and with
    /// `MANAGER_STORAGE=postgres` (several managers, one broker) `…-{hostname}-{http port}`, so that
    /// each manager keeps its own stable session.
    public var effectiveMQTTClientID: String {
        if let mqttClientID { return mqttClientID }
        let base = "propeller-manager-\(domainID)-\(channelID)"
        return storage == .postgres ? "\(base)-\(Self.hostname)-\(httpPort)" : base
    }

    /// The shared-subscription group of ingestion: `propeller-managers` with `MANAGER_STORAGE=postgres`
    /// (SPEC §1: the managers split the proplets' messages), nil (a plain subscription) otherwise.
    public var sharedSubscriptionGroup: String? { storage == .postgres ? "propeller-managers" : nil }
    /// `MANAGER_STORAGE`: `sqlite`, `memory` or `postgres`. Default `sqlite`.
    public var storage = Storage.sqlite
    /// `MANAGER_DB_PATH`. Default `./propeller.db`.
    public var databasePath = "./propeller.db"
    /// `MANAGER_DATABASE_URL`: the PostgreSQL database (`DatabaseURL`); required with
    /// `MANAGER_STORAGE=postgres`, ignored otherwise. Default unset.
    public var databaseURL: DatabaseURL?
    /// `MANAGER_DATABASE_TIMEOUT`: seconds an API request waits for an unreachable PostgreSQL before it
    /// is answered 503 (samples never give up: they wait until the database is back). Default 5.
    public var databaseTimeoutSeconds = 5
    /// `MANAGER_CLOCK_SKEW`: seconds a sample's timestamp may lie in the future. Default 5.
    public var clockSkewSeconds = 5
    /// `MANAGER_PROPLET_TIMEOUT`: seconds of silence after which a proplet is not alive. Default 30.
    public var propletTimeoutSeconds = 30
    /// `MANAGER_LIVENESS_CHECK_INTERVAL`: seconds between liveness sweeps. Default 1.
    public var livenessCheckIntervalSeconds = 1
    /// `MANAGER_MAX_BODY_BYTES`: largest accepted request body; larger → 413. Default 16 MiB.
    public var maxBodyBytes = 16 * 1024 * 1024
    /// `MANAGER_INGEST_BATCH_SIZE`: samples written per transaction at most. Default 500.
    public var ingestBatchSize = 500
    /// `MANAGER_INGEST_FLUSH_MS`: longest a received sample waits before it is written. Default 100 ms.
    public var ingestFlushMilliseconds = 100
    /// `MANAGER_RETENTION_MAX_SAMPLES`: samples kept per task and per proplet. Default 100,000.
    public var retentionMaxSamples = 100_000
    /// `MANAGER_RETENTION_MAX_AGE`: seconds a sample is kept; 0 keeps samples forever. Default 7 days.
    public var retentionMaxAgeSeconds = 7 * 24 * 3600
    /// `MANAGER_RETENTION_INTERVAL`: seconds between retention sweeps. Default 60.
    public var retentionIntervalSeconds = 60

    /// API tokens, HTTPS and HTTP connection limits (SPEC §7).
    public var security = ManagerSecurityConfiguration()

    /// The defaults.
    public init() {}

    /// The topics of the configured domain and channel.
    public var topics: Topics { Topics(domainID: domainID, channelID: channelID) }

    /// The retention policy of the store.
    public var retention: RetentionPolicy {
        RetentionPolicy(
            maxSamplesPerSeries: retentionMaxSamples,
            maxAgeSeconds: retentionMaxAgeSeconds == 0 ? nil : retentionMaxAgeSeconds
        )
    }
}
