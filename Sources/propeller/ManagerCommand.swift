import ArgumentParser
import Foundation
import Logging
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
        logger.info("configuration loaded", metadata: ConfigurationLog.metadata(of: configuration))
        try await ManagerApplication.run(configuration: configuration, logger: logger)
    }
}
