import PropellerCore
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

    /// Reads the configuration from environment variables (SPEC §6). Unset or empty variables keep
    /// their defaults.
    ///
    /// - Throws: `PropletError.invalidEnvironment` naming the first variable whose value does not parse
    ///   and saying what is accepted.
    public init(environment: [String: String]) throws(PropletError) {
        self.init()
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingWhitespace, !raw.isEmpty else { return nil }
            return raw
        }
        if let url = value("PROPELLER_MQTT_URL") {
            guard url.hasPrefix("mqtt://") || url.hasPrefix("mqtts://") else {
                throw .invalidEnvironment(
                    variable: "PROPELLER_MQTT_URL",
                    expected: "a broker URL like mqtt://host:1883 (mqtt:// or mqtts://)",
                    got: url
                )
            }
            mqttURL = url
        }
        mqttUsername = value("PROPELLER_MQTT_USERNAME")
        mqttPassword = value("PROPELLER_MQTT_PASSWORD")
        domainID = try Self.topicLevel("PROPELLER_DOMAIN_ID", value("PROPELLER_DOMAIN_ID")) ?? domainID
        channelID = try Self.topicLevel("PROPELLER_CHANNEL_ID", value("PROPELLER_CHANNEL_ID")) ?? channelID
        if let id = value("PROPLET_ID") {
            do {
                try Identifier.validate(id, field: "PROPLET_ID")
            } catch {
                throw .invalidEnvironment(
                    variable: "PROPLET_ID",
                    expected: "a non-empty identifier of at most 128 characters without '/', '+', '#'",
                    got: id
                )
            }
            propletID = id
        }
        propletName = value("PROPLET_NAME")
        stateDirectory = value("PROPLET_STATE_DIR") ?? stateDirectory
        do {
            registry = try ModuleFetcherConfiguration(environment: environment, stateDirectory: stateDirectory)
        } catch {
            throw .invalidEnvironment(variable: error.variable, expected: error.accepted, got: error.value)
        }
        if let flag = value("PROPLET_ENABLE_MONITORING") {
            monitoringEnabled = try Self.boolean("PROPLET_ENABLE_MONITORING", flag)
        }
        if let text = value("PROPLET_LIVELINESS_INTERVAL") {
            livelinessInterval = try Self.seconds("PROPLET_LIVELINESS_INTERVAL", text)
        }
        if let text = value("PROPLET_METRICS_INTERVAL") {
            metricsInterval = try Self.seconds("PROPLET_METRICS_INTERVAL", text)
        }
        runnerPath = value("PROPLET_RUNNER_PATH")
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

    /// Parses `true/false/1/0/yes/no` (any case).
    static func boolean(_ variable: String, _ text: String) throws(PropletError) -> Bool {
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default:
            throw .invalidEnvironment(variable: variable, expected: "true, false, 1, 0, yes or no", got: text)
        }
    }

    /// Parses whole seconds, `10` or `10s`, within `intervalSecondsRange`.
    static func seconds(_ variable: String, _ text: String) throws(PropletError) -> Duration {
        let digits = text.hasSuffix("s") ? String(text.dropLast()) : text
        let range = intervalSecondsRange
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let number = Int(digits),
            range.contains(number)
        else {
            throw .invalidEnvironment(
                variable: variable,
                expected: "whole seconds from \(range.lowerBound) to \(range.upperBound), like 10 or 10s",
                got: text
            )
        }
        return .seconds(number)
    }

    /// Checks a domain or channel id: one MQTT topic level without wildcards.
    static func topicLevel(_ variable: String, _ text: String?) throws(PropletError) -> String? {
        guard let text else { return nil }
        let bad = text.unicodeScalars.contains { $0 == "/" || $0 == "+" || $0 == "#" || $0.value < 0x20 }
        guard !bad else {
            throw .invalidEnvironment(
                variable: variable,
                expected: "one topic level without '/', '+', '#' or control characters",
                got: text
            )
        }
        return text
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
