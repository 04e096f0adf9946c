import PropellerCore

/// A configuration value that does not parse: names the variable, what was given and what is accepted.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The environment variable.
    public var variable: String
    /// The rejected value.
    public var value: String
    /// What the variable accepts.
    public var expected: String

    /// Creates the error for `variable`, its rejected `value` and what it accepts.
    public init(variable: String, value: String, expected: String) {
        self.variable = variable
        self.value = value
        self.expected = expected
    }

    /// `NAME="value" is invalid: expected …`.
    public var description: String { "\(variable)=\"\(value)\" is invalid: expected \(expected)" }
}

extension ManagerConfiguration {
    /// Reads the configuration from environment variables; unset or empty variables keep their defaults.
    ///
    /// - Throws: `ConfigurationError` for the first value that does not parse.
    public init(environment: [String: String]) throws(ConfigurationError) {
        self.init()
        let reader = EnvironmentReader(environment: environment)
        if let host = try reader.string("MANAGER_HTTP_HOST") { httpHost = host }
        if let port = try reader.integer("MANAGER_HTTP_PORT", in: 0...65535) { httpPort = port }
        if let url = try reader.string("PROPELLER_MQTT_URL") {
            guard MQTTAddress(url) != nil else {
                throw ConfigurationError(
                    variable: "PROPELLER_MQTT_URL",
                    value: url,
                    expected: "mqtt://HOST:PORT or tcp://HOST:PORT (port 1…65535)"
                )
            }
            mqttURL = url
        }
        mqttUsername = try reader.string("PROPELLER_MQTT_USERNAME")
        mqttPassword = try reader.string("PROPELLER_MQTT_PASSWORD")
        if let domain = try reader.identifier("PROPELLER_DOMAIN_ID") { domainID = domain }
        if let channel = try reader.identifier("PROPELLER_CHANNEL_ID") { channelID = channel }
        if let clientID = try reader.identifier("MANAGER_MQTT_CLIENT_ID") { mqttClientID = clientID }
        if let text = try reader.string("MANAGER_STORAGE") {
            guard let storage = Storage(rawValue: text.lowercased()) else {
                throw ConfigurationError(variable: "MANAGER_STORAGE", value: text, expected: "sqlite or memory")
            }
            self.storage = storage
        }
        if let path = try reader.string("MANAGER_DB_PATH") { databasePath = path }
        if let seconds = try reader.seconds("MANAGER_CLOCK_SKEW", in: 0...86_400) {
            clockSkewSeconds = seconds
        }
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
    }
}

/// Typed access to environment variables with errors that name the variable.
private struct EnvironmentReader {
    var environment: [String: String]

    func string(_ name: String) throws(ConfigurationError) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let text = try string(name) else { return nil }
        guard let value = Int(text.trimmingSpaces), range.contains(value) else {
            throw ConfigurationError(
                variable: name,
                value: text,
                expected: "an integer from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return value
    }

    /// Whole seconds, optionally with an `s` suffix (`30` or `30s`).
    func seconds(_ name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let text = try string(name) else { return nil }
        var digits = text.trimmingSpaces
        if digits.hasSuffix("s") { digits.removeLast() }
        guard let value = Int(digits), range.contains(value) else {
            throw ConfigurationError(
                variable: name,
                value: text,
                expected: "whole seconds from \(range.lowerBound) to \(range.upperBound), like 30 or 30s"
            )
        }
        return value
    }

    func identifier(_ name: String) throws(ConfigurationError) -> String? {
        guard let text = try string(name) else { return nil }
        do {
            try Identifier.validate(text, field: name)
        } catch {
            throw ConfigurationError(
                variable: name,
                value: text,
                expected: "a non-empty identifier of at most 128 characters without '/', '+', '#'"
            )
        }
        return text
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
