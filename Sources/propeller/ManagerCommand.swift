import ArgumentParser
import Foundation
import Logging
import PropellerMQTT
import PropellerManager

/// `propeller manager`: the REST API, ingestion, liveness and retention in one process.
///
/// Configuration comes only from the environment (SPEC §6 and `ManagerConfiguration`); a value that
/// does not parse stops the start with a message naming the variable. SIGTERM and SIGINT shut down
/// gracefully: the server stops accepting, buffered samples are written, the MQTT client disconnects.
struct ManagerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manager",
        abstract: "Run the manager: REST API on MANAGER_HTTP_HOST:MANAGER_HTTP_PORT, MQTT ingestion, scheduling.",
        discussion: """
            Reads its configuration from the environment: MANAGER_HTTP_HOST, MANAGER_HTTP_PORT, \
            PROPELLER_MQTT_URL, PROPELLER_MQTT_USERNAME, PROPELLER_MQTT_PASSWORD, PROPELLER_DOMAIN_ID, \
            PROPELLER_CHANNEL_ID, MANAGER_STORAGE (sqlite|memory), MANAGER_DB_PATH, MANAGER_PROPLET_TIMEOUT, \
            MANAGER_LIVENESS_CHECK_INTERVAL, MANAGER_MAX_BODY_BYTES, MANAGER_INGEST_BATCH_SIZE, \
            MANAGER_INGEST_FLUSH_MS, MANAGER_RETENTION_MAX_SAMPLES, MANAGER_RETENTION_MAX_AGE, \
            MANAGER_RETENTION_INTERVAL.
            """
    )

    func run() async throws {
        let logger = Logger(label: "propeller.manager")
        let configuration: ManagerConfiguration
        do {
            configuration = try ManagerConfiguration(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.description)
        }
        let store: any Store
        switch configuration.storage {
        case .sqlite: store = try SQLiteStore(path: configuration.databasePath, logger: logger)
        case .memory: store = InMemoryStore()
        }
        let client = try MQTTClient(
            configuration: MQTTConfiguration(
                url: configuration.mqttURL,
                clientID: "propeller-manager-\(UUID().uuidString.prefix(8).lowercased())",
                username: configuration.mqttUsername,
                password: configuration.mqttPassword
            ),
            logger: logger
        )
        // Keeps retrying in the background: the API is useful (and subscriptions are restored) before the
        // broker is reachable.
        try await client.connect(waitForConnection: false)
        logger.info(
            "manager starting",
            metadata: [
                "mqtt.url": "\(configuration.mqttURL)", "storage": "\(configuration.storage.rawValue)",
                "db.path": "\(configuration.storage == .sqlite ? configuration.databasePath : "-")",
            ]
        )
        let app = buildApplication(configuration: configuration, store: store, pubsub: client, logger: logger)
        do {
            try await app.runService()
        } catch {
            await client.disconnect()
            throw error
        }
        await client.disconnect()
        logger.info("manager stopped")
    }
}
