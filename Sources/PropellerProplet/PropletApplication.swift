import Logging
import PropellerCore
import PropellerMQTT
import ServiceLifecycle

/// The whole proplet process, wired: identity, MQTT client with the last will, `PropletService` in a
/// `ServiceGroup` with graceful shutdown on SIGTERM and SIGINT. `propeller proplet` calls `run`.
public enum PropletApplication {
    /// Runs a proplet until SIGTERM or SIGINT: then running tasks are stopped and reported, an
    /// `offline` heartbeat is sent, and the client disconnects cleanly (the will is not published).
    ///
    /// - Throws: `PropletError` for an unusable state directory or a configured Wasm runtime that is
    ///   missing (naming the variable and the path), `MQTTError` for a bad broker URL or a refused
    ///   connection (bad credentials). An unreachable broker is retried, not an error.
    public static func run(configuration: PropletConfiguration, logger: Logger) async throws {
        let identity = try PropletIdentity.resolve(configuration)
        let runtime = try await TaskRuntimes.resolve(configuration)
        logger.info("wasm runtime ready", metadata: ["wasm_runtime": "\(runtime.description)"])
        let topics = Topics(domainID: configuration.domainID, channelID: configuration.channelID)
        var mqtt = MQTTConfiguration(
            url: configuration.mqttURL,
            clientID: "proplet-\(identity.propletID)",
            username: configuration.mqttUsername,
            password: configuration.mqttPassword,
            will: PropletService<ContinuousClock>.lastWill(identity: identity, topics: topics)
        )
        mqtt.caFile = configuration.mqttCAFile
        mqtt.certificateFile = configuration.mqttCertificateFile
        mqtt.keyFile = configuration.mqttKeyFile
        let client = try MQTTClient(configuration: mqtt, logger: logger)
        logger.info(
            "connecting to the broker",
            metadata: ["url": "\(configuration.mqttURL)", "proplet.id": "\(identity.propletID)"]
        )
        try await client.connect()
        let service = try PropletService(
            configuration: configuration,
            identity: identity,
            pubSub: client,
            logger: logger,
            runtime: runtime
        )
        // The client first: services shut down in reverse order, so it disconnects after the proplet
        // service has stopped its tasks and sent the offline heartbeat.
        let group = ServiceGroup(
            configuration: .init(
                services: [client, service],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            await client.disconnect()
            throw error
        }
    }
}
