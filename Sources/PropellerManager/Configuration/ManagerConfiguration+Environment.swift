import PropellerCore
import PropellerMQTT

/// A configuration value that does not parse: names the variable, what was given and what is accepted.
public typealias ConfigurationError = EnvironmentError

extension ManagerConfiguration {
    /// Reads the configuration from environment variables; unset or empty variables keep their defaults.
    ///
    /// - Throws: `ConfigurationError` for the first value that does not parse.
    public init(environment: [String: String]) throws(ConfigurationError) {
        self.init()
        let reader = EnvironmentParser(environment)
        if let host = reader.string("MANAGER_HTTP_HOST") { httpHost = host }
        if let port = try reader.integer("MANAGER_HTTP_PORT", in: 0...65535) { httpPort = port }
        if let url = try reader.mqttURL() { mqttURL = url }
        mqttUsername = reader.string("PROPELLER_MQTT_USERNAME")
        mqttPassword = reader.string("PROPELLER_MQTT_PASSWORD")
        mqttCAFile = reader.string("PROPELLER_MQTT_CA_FILE")
        mqttCertificateFile = reader.string("PROPELLER_MQTT_CERT_FILE")
        mqttKeyFile = reader.string("PROPELLER_MQTT_KEY_FILE")
        if (mqttCertificateFile == nil) != (mqttKeyFile == nil) {
            throw ConfigurationError(
                variable: mqttCertificateFile == nil ? "PROPELLER_MQTT_CERT_FILE" : "PROPELLER_MQTT_KEY_FILE",
                value: "",
                expected: "PROPELLER_MQTT_CERT_FILE and PROPELLER_MQTT_KEY_FILE set together"
            )
        }
        if let domain = try reader.topicLevel("PROPELLER_DOMAIN_ID") { domainID = domain }
        if let channel = try reader.topicLevel("PROPELLER_CHANNEL_ID") { channelID = channel }
        if let clientID = try reader.identifier("MANAGER_MQTT_CLIENT_ID") { mqttClientID = clientID }
        if let text = reader.string("MANAGER_STORAGE") {
            guard let storage = Storage(rawValue: text.lowercased()) else {
                throw ConfigurationError(
                    variable: "MANAGER_STORAGE",
                    value: text,
                    expected: "sqlite, memory or postgres"
                )
            }
            self.storage = storage
        }
        if let path = reader.string("MANAGER_DB_PATH") { databasePath = path }
        try readDatabaseURL(reader.string("MANAGER_DATABASE_URL"))
        if let seconds = try reader.seconds("MANAGER_DATABASE_TIMEOUT", in: 1...3600) {
            databaseTimeoutSeconds = seconds
        }
        if let seconds = try reader.seconds("MANAGER_CLOCK_SKEW", in: 0...86_400) { clockSkewSeconds = seconds }
        if let seconds = try reader.seconds("MANAGER_PROPLET_TIMEOUT", in: 1...86_400) {
            propletTimeoutSeconds = seconds
        }
        if let seconds = try reader.seconds("MANAGER_LIVENESS_CHECK_INTERVAL", in: 1...3600) {
            livenessCheckIntervalSeconds = seconds
        }
        if let bytes = try reader.integer("MANAGER_MAX_BODY_BYTES", in: 1024...(1 << 30)) { maxBodyBytes = bytes }
        if let size = try reader.integer("MANAGER_INGEST_BATCH_SIZE", in: 1...100_000) { ingestBatchSize = size }
        if let millis = try reader.integer("MANAGER_INGEST_FLUSH_MS", in: 1...60_000) {
            ingestFlushMilliseconds = millis
        }
        if let count = try reader.integer("MANAGER_RETENTION_MAX_SAMPLES", in: 1...1_000_000_000) {
            retentionMaxSamples = count
        }
        if let seconds = try reader.seconds("MANAGER_RETENTION_MAX_AGE", in: 0...(100 * 365 * 86_400)) {
            retentionMaxAgeSeconds = seconds
        }
        if let seconds = try reader.seconds("MANAGER_RETENTION_INTERVAL", in: 1...86_400) {
            retentionIntervalSeconds = seconds
        }
        security = try ManagerSecurityConfiguration(environment: environment, host: httpHost)
    }
}
