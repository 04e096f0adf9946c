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
    /// CA certificate (PEM) that verifies an `mqtts://` broker (`PROPELLER_MQTT_CA_FILE`); unset: the
    /// system's trusted certificates.
    public var mqttCAFile: String?
    /// The proplet's client certificate for the broker (`PROPELLER_MQTT_CERT_FILE`), unset by default.
    public var mqttCertificateFile: String?
    /// The key of `mqttCertificateFile` (`PROPELLER_MQTT_KEY_FILE`), unset by default.
    public var mqttKeyFile: String?
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
    /// Most bytes of unacknowledged messages kept in the journal (memory and `<state dir>/journal`);
    /// past it the oldest are dropped and counted. Default 64 MiB (`PROPLET_OUTBOX_MAX_BYTES`).
    public var outboxMaxBytes: Int = 64 << 20
    /// How long an unacknowledged message waits before it is sent again. Default 10 s
    /// (`PROPLET_ACK_TIMEOUT`, not in SPEC).
    public var ackTimeout: Duration = .seconds(10)
    /// How task processes run Wasm: `wasmkit` (default, the `propeller-wasm` runner) or `wasmtime`
    /// (`PROPLET_WASM_RUNTIME`).
    public var wasmRuntime: WasmRuntimeKind = .wasmkit
    /// The Wasmtime CLI: a path, or a name looked up on PATH. Default `wasmtime` (`PROPLET_WASMTIME_PATH`).
    public var wasmtimePath: String = "wasmtime"
    /// Defaults for tasks that do not set a limit, and ceilings no task may exceed: a task asking for
    /// more runs with the ceiling (`PROPLET_TASK_MEMORY_BYTES`, `PROPLET_TASK_CPU_SECONDS`,
    /// `PROPLET_TASK_TIMEOUT_SECONDS`; unset by default).
    public var taskLimits: TaskLimits = .none

    /// A configuration with every default.
    public init() {}

    /// Accepted range of the interval variables, in seconds.
    public static let intervalSecondsRange = 1...86_400
    /// Accepted range of `PROPLET_OUTBOX_MAX_BYTES`: 4 KiB to 1 TiB.
    public static let outboxMaxBytesRange = 4096...(1 << 40)

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
            mqttCAFile = reader.string("PROPELLER_MQTT_CA_FILE")
            mqttCertificateFile = reader.string("PROPELLER_MQTT_CERT_FILE")
            mqttKeyFile = reader.string("PROPELLER_MQTT_KEY_FILE")
            if (mqttCertificateFile == nil) != (mqttKeyFile == nil) {
                throw EnvironmentError(
                    variable: mqttCertificateFile == nil ? "PROPELLER_MQTT_CERT_FILE" : "PROPELLER_MQTT_KEY_FILE",
                    value: "unset",
                    expected: "PROPELLER_MQTT_CERT_FILE and PROPELLER_MQTT_KEY_FILE set together"
                )
            }
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
            if let bytes = try reader.integer("PROPLET_OUTBOX_MAX_BYTES", in: Self.outboxMaxBytesRange) {
                outboxMaxBytes = bytes
            }
            if let seconds = try reader.seconds("PROPLET_ACK_TIMEOUT", in: Self.intervalSecondsRange) {
                ackTimeout = .seconds(seconds)
            }
        } catch {
            throw .invalidEnvironment(variable: error.variable, expected: error.expected, got: error.value)
        }
        do {
            registry = try ModuleFetcherConfiguration(environment: environment, stateDirectory: stateDirectory)
        } catch {
            throw .invalidEnvironment(variable: error.variable, expected: error.accepted, got: error.value)
        }
        let value: (String) -> String? = { EnvironmentParser(environment).string($0) }
        if let text = value("PROPLET_WASM_RUNTIME") {
            guard let kind = WasmRuntimeKind(rawValue: text.lowercased()) else {
                throw .invalidEnvironment(variable: "PROPLET_WASM_RUNTIME", expected: "wasmkit or wasmtime", got: text)
            }
            wasmRuntime = kind
        }
        wasmtimePath = value("PROPLET_WASMTIME_PATH") ?? wasmtimePath
        taskLimits = try Self.taskLimits(value)
    }

    /// `PROPLET_TASK_MEMORY_BYTES` (bytes or a size like `64MiB`), `PROPLET_TASK_CPU_SECONDS` and
    /// `PROPLET_TASK_TIMEOUT_SECONDS` (whole seconds), each within `TaskLimits`' ranges.
    static func taskLimits(_ value: (String) -> String?) throws(PropletError) -> TaskLimits {
        var limits = TaskLimits.none
        if let text = value("PROPLET_TASK_MEMORY_BYTES") {
            let range = TaskLimits.memoryBytesRange
            guard let bytes = TaskLimits.parseBytes(text), range.contains(bytes) else {
                throw .invalidEnvironment(
                    variable: "PROPLET_TASK_MEMORY_BYTES",
                    expected: "\(TaskLimits.bytesSyntax), from \(range.lowerBound) to \(range.upperBound) bytes",
                    got: text
                )
            }
            limits.memoryBytes = bytes
        }
        for variable in ["PROPLET_TASK_CPU_SECONDS", "PROPLET_TASK_TIMEOUT_SECONDS"] {
            guard let text = value(variable) else { continue }
            let range = TaskLimits.secondsRange
            guard let seconds = TaskLimits.parseSeconds(text), range.contains(seconds) else {
                throw .invalidEnvironment(
                    variable: variable,
                    expected: "\(TaskLimits.secondsSyntax), from \(range.lowerBound) to \(range.upperBound)",
                    got: text
                )
            }
            if variable == "PROPLET_TASK_CPU_SECONDS" {
                limits.cpuSeconds = seconds
            } else {
                limits.timeoutSeconds = seconds
            }
        }
        return limits
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
