import PropellerCore

/// Everything the manager can be configured with, with every default in one place (SPEC §6).
///
/// `init(environment:)` reads the variables of SPEC §6 plus the manager's own (documented on each
/// property); a value that does not parse is a startup error naming the variable.
public struct ManagerConfiguration: Sendable, Hashable {
    /// Where samples and tasks are kept.
    public enum Storage: String, Sendable, Hashable, CaseIterable {
        case sqlite, memory
    }

    /// `MANAGER_HTTP_HOST`. Default `127.0.0.1`.
    public var httpHost = "127.0.0.1"
    /// `MANAGER_HTTP_PORT`, 0…65535 (0 = any free port, logged at startup). Default 7070.
    public var httpPort = 7070
    /// `PROPELLER_MQTT_URL`: `mqtt://host:port` (or `tcp://`). Default `mqtt://127.0.0.1:1883`.
    public var mqttURL = "mqtt://127.0.0.1:1883"
    /// `PROPELLER_MQTT_USERNAME`. Default unset.
    public var mqttUsername: String?
    /// `PROPELLER_MQTT_PASSWORD`. Default unset.
    public var mqttPassword: String?
    /// `PROPELLER_DOMAIN_ID`. Default `default`.
    public var domainID = "default"
    /// `PROPELLER_CHANNEL_ID`. Default `default`.
    public var channelID = "default"
    /// `MANAGER_MQTT_CLIENT_ID`: the manager's MQTT client id. Default (nil) is
    /// `propeller-manager-{domain}-{channel}`. The id is stable and the session persistent, so the broker
    /// queues QoS 1 samples and results for the manager while it restarts or reconnects; give each manager
    /// sharing a broker, domain and channel its own id.
    public var mqttClientID: String?

    /// The MQTT client id in use: `mqttClientID` or `propeller-manager-{domain}-{channel}`.
    public var effectiveMQTTClientID: String { mqttClientID ?? "propeller-manager-\(domainID)-\(channelID)" }
    /// `MANAGER_STORAGE`: `sqlite` or `memory`. Default `sqlite`.
    public var storage = Storage.sqlite
    /// `MANAGER_DB_PATH`. Default `./propeller.db`.
    public var databasePath = "./propeller.db"
    /// `MANAGER_PROPLET_TIMEOUT`: seconds of silence after which a proplet is not alive. Default 30.
    public var propletTimeoutSeconds = 30
    /// `MANAGER_CLOCK_SKEW`: seconds a sample's timestamp may lie in the future. Default 5.
    public var clockSkewSeconds = 5
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
