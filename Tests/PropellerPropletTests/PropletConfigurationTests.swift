import Foundation
import PropellerCore
import Testing

@testable import PropellerProplet

@Suite("Proplet configuration from the environment")
struct PropletConfigurationTests {
    @Test("an empty environment gives the SPEC §6 defaults")
    func defaults() throws {
        let configuration = try PropletConfiguration(environment: [:])
        #expect(configuration.mqttURL == "mqtt://127.0.0.1:1883")
        #expect(configuration.mqttUsername == nil)
        #expect(configuration.domainID == "default")
        #expect(configuration.channelID == "default")
        #expect(configuration.propletID == nil)
        #expect(configuration.stateDirectory == ".propeller/proplet")
        #expect(configuration.monitoringEnabled)
        #expect(configuration.livelinessInterval == .seconds(10))
        #expect(configuration.metricsInterval == .seconds(10))
    }

    @Test("every variable is read")
    func everyVariable() throws {
        let configuration = try PropletConfiguration(environment: [
            "PROPELLER_MQTT_URL": "mqtt://broker:1884",
            "PROPELLER_MQTT_USERNAME": "user",
            "PROPELLER_MQTT_PASSWORD": "secret",
            "PROPELLER_DOMAIN_ID": "dom",
            "PROPELLER_CHANNEL_ID": "chan",
            "PROPLET_ID": "p-1",
            "PROPLET_NAME": "edge one",
            "PROPLET_STATE_DIR": "/tmp/state",
            "PROPLET_ENABLE_MONITORING": "no",
            "PROPLET_LIVELINESS_INTERVAL": "5s",
            "PROPLET_METRICS_INTERVAL": " 30 ",
            "PROPLET_RUNNER_PATH": "/opt/runner",
        ])
        #expect(configuration.mqttURL == "mqtt://broker:1884")
        #expect(configuration.mqttUsername == "user")
        #expect(configuration.mqttPassword == "secret")
        #expect(configuration.domainID == "dom")
        #expect(configuration.channelID == "chan")
        #expect(configuration.propletID == "p-1")
        #expect(configuration.propletName == "edge one")
        #expect(configuration.stateDirectory == "/tmp/state")
        #expect(!configuration.monitoringEnabled)
        #expect(configuration.livelinessInterval == .seconds(5))
        #expect(configuration.metricsInterval == .seconds(30))
        #expect(configuration.runnerPath == "/opt/runner")
    }

    @Test(
        "monitoring flag accepts true/false/1/0/yes/no in any case",
        arguments: [
            ("TRUE", true), ("1", true), ("yes", true), ("False", false), ("0", false), ("NO", false),
        ]
    )
    func monitoringFlag(text: String, expected: Bool) throws {
        let configuration = try PropletConfiguration(environment: ["PROPLET_ENABLE_MONITORING": text])
        #expect(configuration.monitoringEnabled == expected)
    }

    @Test(
        "a value that does not parse is an error naming the variable and what is accepted",
        arguments: [
            ("PROPLET_ENABLE_MONITORING", "maybe", "true, false, 1, 0, yes or no"),
            ("PROPLET_LIVELINESS_INTERVAL", "ten", "whole seconds"),
            ("PROPLET_LIVELINESS_INTERVAL", "1.5", "whole seconds"),
            ("PROPLET_METRICS_INTERVAL", "0", "whole seconds from 1"),
            ("PROPLET_METRICS_INTERVAL", "10m", "like 10 or 10s"),
            ("PROPELLER_MQTT_URL", "http://x", "mqtt://"),
            ("PROPELLER_DOMAIN_ID", "a/b", "one topic level"),
            ("PROPLET_ID", "a+b", "identifier"),
        ]
    )
    func rejectsBadValues(variable: String, value: String, accepted: String) throws {
        let error = #expect(throws: PropletError.self) {
            try PropletConfiguration(environment: [variable: value])
        }
        let message = try #require(error).description
        #expect(message.hasPrefix(variable))
        #expect(message.contains(accepted))
        #expect(message.contains(value))
    }

    @Test("the generated id is saved in the state directory and reused on the next start")
    func identityIsStable() throws {
        let directory = NSTemporaryDirectory() + "proplet-identity-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = PropletConfiguration()
        configuration.stateDirectory = directory + "/nested"
        let first = try PropletIdentity.resolve(configuration)
        let second = try PropletIdentity.resolve(configuration)
        #expect(first == second)
        #expect(first.name == "proplet-\(first.propletID.prefix(8))")
        #expect(UUID(uuidString: first.propletID) != nil)

        configuration.propletID = "override"
        configuration.propletName = "named"
        let overridden = try PropletIdentity.resolve(configuration)
        #expect(overridden == PropletIdentity(propletID: "override", name: "named"))
        configuration.propletID = nil
        configuration.propletName = nil
        #expect(try PropletIdentity.resolve(configuration) == first)
    }

    @Test("a corrupt identity file is a startup error naming the state directory")
    func corruptIdentity() throws {
        let directory = NSTemporaryDirectory() + "proplet-identity-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data("not json".utf8).write(to: PropletIdentity.file(in: directory))
        var configuration = PropletConfiguration()
        configuration.stateDirectory = directory
        let error = #expect(throws: PropletError.self) { try PropletIdentity.resolve(configuration) }
        #expect(error?.description.contains(directory) == true)
        #expect(error?.description.contains("identity.json") == true)
    }
}

@Suite("Proplet configuration: the shared broker URL")
struct PropletBrokerURLTests {
    @Test("the proplet accepts the same broker URL schemes as the manager", arguments: ["mqtt", "tcp", "mqtts", "ssl"])
    func schemes(scheme: String) throws {
        let url = "\(scheme)://broker:1884"
        #expect(try PropletConfiguration(environment: ["PROPELLER_MQTT_URL": url]).mqttURL == url)
    }
}
