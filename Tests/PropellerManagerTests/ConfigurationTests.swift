import PropellerManager
import Testing

@Suite("Manager configuration")
struct ConfigurationTests {
    @Test("defaults match SPEC §6")
    func defaults() throws {
        let configuration = try ManagerConfiguration(environment: [:])
        #expect(configuration.httpHost == "127.0.0.1")
        #expect(configuration.httpPort == 7070)
        #expect(configuration.mqttURL == "mqtt://127.0.0.1:1883")
        #expect(configuration.mqttUsername == nil)
        #expect(configuration.domainID == "default")
        #expect(configuration.channelID == "default")
        #expect(configuration.storage == .sqlite)
        #expect(configuration.databasePath == "./propeller.db")
        #expect(configuration.propletTimeoutSeconds == 30)
        #expect(configuration.maxBodyBytes == 16 * 1024 * 1024)
        #expect(configuration.retention == RetentionPolicy(maxSamplesPerSeries: 100_000, maxAgeSeconds: 7 * 86_400))
    }

    @Test("every variable is read; durations accept 30 and 30s")
    func parse() throws {
        let configuration = try ManagerConfiguration(environment: [
            "MANAGER_HTTP_HOST": "0.0.0.0", "MANAGER_HTTP_PORT": "0", "PROPELLER_MQTT_URL": "tcp://broker:1884",
            "PROPELLER_MQTT_USERNAME": "u", "PROPELLER_MQTT_PASSWORD": "p", "PROPELLER_DOMAIN_ID": "d1",
            "PROPELLER_CHANNEL_ID": "c1", "MANAGER_STORAGE": "memory", "MANAGER_DB_PATH": "/tmp/x.db",
            "MANAGER_PROPLET_TIMEOUT": "5s", "MANAGER_RETENTION_MAX_AGE": "0", "MANAGER_RETENTION_MAX_SAMPLES": "10",
            "MANAGER_MAX_BODY_BYTES": "2048", "MANAGER_ALLOW_UNAUTHENTICATED": "true",
        ])
        #expect(configuration.httpHost == "0.0.0.0")
        #expect(configuration.httpPort == 0)
        #expect(configuration.mqttURL == "tcp://broker:1884")
        #expect(configuration.mqttUsername == "u")
        #expect(configuration.mqttPassword == "p")
        #expect(configuration.topics.base == "m/d1/c/c1/")
        #expect(configuration.storage == .memory)
        #expect(configuration.databasePath == "/tmp/x.db")
        #expect(configuration.propletTimeoutSeconds == 5)
        #expect(configuration.retention == RetentionPolicy(maxSamplesPerSeries: 10, maxAgeSeconds: nil))
        #expect(configuration.maxBodyBytes == 2048)
        #expect(try ManagerConfiguration(environment: ["MANAGER_PROPLET_TIMEOUT": "30"]).propletTimeoutSeconds == 30)
    }

    @Test(
        "a value that does not parse is an error naming the variable and what is accepted",
        arguments: [
            ("MANAGER_HTTP_PORT", "http", "integer"), ("MANAGER_HTTP_PORT", "70000", "65535"),
            ("PROPELLER_MQTT_URL", "http://x", "mqtt://"), ("PROPELLER_MQTT_URL", "mqtt://x:0", "port"),
            ("MANAGER_STORAGE", "mysql", "sqlite, memory or postgres"), ("MANAGER_PROPLET_TIMEOUT", "30m", "10s"),
            ("MANAGER_PROPLET_TIMEOUT", "0", "seconds"), ("PROPELLER_DOMAIN_ID", "a/b", "'/'"),
            ("MANAGER_RETENTION_MAX_SAMPLES", "-1", "integer"),
        ]
    )
    func invalid(variable: String, value: String, accepted: String) {
        #expect {
            try ManagerConfiguration(environment: [variable: value])
        } throws: { error in
            let message = String(describing: error)
            return message.contains(variable) && message.contains(value) && message.contains(accepted)
        }
    }
}

@Suite("Configuration: the shared broker URL")
struct SharedBrokerURLTests {
    @Test("the manager accepts the same broker URL schemes as the proplet", arguments: ["mqtt", "tcp", "mqtts", "ssl"])
    func schemes(scheme: String) throws {
        let url = "\(scheme)://broker:1884"
        #expect(try ManagerConfiguration(environment: ["PROPELLER_MQTT_URL": url]).mqttURL == url)
    }
}
