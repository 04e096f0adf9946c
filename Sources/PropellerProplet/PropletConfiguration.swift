import PropellerCore
import PropellerMQTT
import PropellerRegistry

/// Everything a proplet needs to run, with every default in one place (SPEC §6).
///
/// Build it from the environment with `init(environment:)`; tests set the fields directly.
public struct PropletConfiguration: Sendable, Hashable {
    /// Broker URL. Default `mqtt://127.0.0.1:1883` (`PROPELLER_MQTT_URL`).
    public var mqttURL: String = "mqtt://127.0.0.1:1883"
    /// Broker user name, unset by default (`PROPELLER_MQTT_USERNAME`).
    public var mqttUsername: String?
    /// Broker password, unset by default (`PROPELLER_MQTT_PASSWORD`).
    public var mqttPassword: String?
    /// Domain of every topic, default `default` (`PROPELLER_DOMAIN_ID`).
    public var domainID: String = "default"
    /// Channel of every topic, default `default` (`PROPELLER_CHANNEL_ID`).
    public var channelID: String = "default"
    /// The proplet's id; nil means the one saved in the state directory, generated on first start
    /// (`PROPLET_ID`).
    public var propletID: String?
    /// The proplet's name; nil means the saved one, by default `proplet-` and the id's first 8
    /// characters (`PROPLET_NAME`).
    public var propletName: String?
    /// Where the identity and the task files live. Default `.propeller/proplet`, relative to the
    /// working directory (`PROPLET_STATE_DIR`).
    public var stateDirectory: String = ".propeller/proplet"
    /// How `image_url` modules are fetched and cached (`PROPLET_REGISTRY_URL`, `PROPLET_REGISTRY_USERNAME`,
    /// `PROPLET_REGISTRY_PASSWORD`, `PROPLET_REGISTRY_INSECURE`, `PROPLET_MODULE_MAX_BYTES`); the cache
    /// lives in `<state dir>/modules`.
    public var registry = ModuleFetcherConfiguration(cacheDirectory: ".propeller/proplet/modules")
    /// Whether tasks and the proplet itself are monitored (`PROPLET_ENABLE_MONITORING`, default true).
    /// When false, only tasks whose profile explicitly asks for monitoring are sampled; see
    /// `TaskSupervisor.monitoringDecision`.
    public var monitoringEnabled: Bool = true
    /// Time between heartbeats, default 10 s (`PROPLET_LIVELINESS_INTERVAL`).
    public var livelinessInterval: Duration = .seconds(10)
    /// Time between proplet-level samples, default 10 s (`PROPLET_METRICS_INTERVAL`).
    public var metricsInterval: Duration = .seconds(10)
    /// The task runner executable; nil means `propeller-wasm` beside the running executable
    /// (`PROPLET_RUNNER_PATH`, not in SPEC: for development and tests).
    public var runnerPath: String?
    /// Time between SIGTERM and SIGKILL when a task is stopped. Default 1 s.
    public var stopGracePeriod: Duration = .seconds(1)

    /// A configuration with every default.
    public init() {}

    /// Accepted range of the interval variables, in seconds.
    public static let intervalSecondsRange = 1...86_400

    /// Reads the configuration from environment variables (SPEC §6). Unset or empty variables keep
    /// their defaults.
    ///
    /// - Throws: `PropletError.invalidEnvironment` naming the first variable whose value does not parse
    ///   and saying what is accepted.
    public init(environment: [String: String]) throws(PropletError) {
        self.init()
        do throws(EnvironmentError) {
            let reader = EnvironmentParser(environment)
            if let url = try reader.mqttURL() { mqttURL = url }
            mqttUsername = reader.string("PROPELLER_MQTT_USERNAME")
            mqttPassword = reader.string("PROPELLER_MQTT_PASSWORD")
            domainID = try reader.topicLevel("PROPELLER_DOMAIN_ID") ?? domainID
            channelID = try reader.topicLevel("PROPELLER_CHANNEL_ID") ?? channelID
            if let id = try reader.identifier("PROPLET_ID") { propletID = id }
            propletName = reader.string("PROPLET_NAME")
            stateDirectory = reader.string("PROPLET_STATE_DIR") ?? stateDirectory
            if let flag = try reader.boolean("PROPLET_ENABLE_MONITORING") { monitoringEnabled = flag }
            if let seconds = try reader.seconds("PROPLET_LIVELINESS_INTERVAL", in: Self.intervalSecondsRange) {
                livelinessInterval = .seconds(seconds)
            }
            if let seconds = try reader.seconds("PROPLET_METRICS_INTERVAL", in: Self.intervalSecondsRange) {
                metricsInterval = .seconds(seconds)
            }
            runnerPath = reader.string("PROPLET_RUNNER_PATH")
        } catch {
            throw .invalidEnvironment(variable: error.variable, expected: error.expected, got: error.value)
        }
        do {
            registry = try ModuleFetcherConfiguration(environment: environment, stateDirectory: stateDirectory)
        } catch {
            throw .invalidEnvironment(variable: error.variable, expected: error.accepted, got: error.value)
        }
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
