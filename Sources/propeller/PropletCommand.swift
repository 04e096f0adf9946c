import ArgumentParser
import Foundation
import Logging
import PropellerProplet

/// `propeller proplet`: a worker that runs Wasm tasks as child processes and monitors each one.
///
/// Configuration comes only from the environment (SPEC §6 and `PropletConfiguration`); a value that does
/// not parse stops the start with a message naming the variable. SIGTERM and SIGINT shut down
/// gracefully: running tasks are stopped and reported, then the proplet says it is offline.
///
/// `propeller proplet list|get|metrics` are CLI commands that ask the manager about proplets instead.
struct PropletCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proplet",
        abstract: "Run a proplet (the default), or list and inspect proplets through the manager.",
        subcommands: [Run.self, PropletCLI.List.self, PropletCLI.Get.self, PropletCLI.Metrics.self],
        defaultSubcommand: Run.self
    )
}

extension PropletCommand {
    /// `propeller proplet [run]`: the worker service.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a proplet: registers with the manager over MQTT, runs and monitors Wasm tasks.",
            discussion: """
                Reads its configuration from the environment: PROPELLER_MQTT_URL, PROPELLER_MQTT_USERNAME, \
                PROPELLER_MQTT_PASSWORD, PROPELLER_DOMAIN_ID, PROPELLER_CHANNEL_ID, PROPLET_ID, PROPLET_NAME, \
                PROPLET_STATE_DIR, PROPLET_ENABLE_MONITORING (true|false|1|0|yes|no), \
                PROPLET_LIVELINESS_INTERVAL and PROPLET_METRICS_INTERVAL (whole seconds, 10 or 10s), \
                PROPLET_RUNNER_PATH (default: propeller-wasm beside this executable).
                """
        )

        func run() async throws {
            let logger = Logger(label: "propeller.proplet")
            let configuration: PropletConfiguration
            do {
                configuration = try PropletConfiguration(environment: ProcessInfo.processInfo.environment)
            } catch {
                throw ValidationError(error.description)
            }
            logger.info("configuration loaded", metadata: ConfigurationLog.metadata(of: configuration))
            try await PropletApplication.run(configuration: configuration, logger: logger)
        }
    }
}
