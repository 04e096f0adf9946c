import Foundation
import PropellerCore
import PropellerMQTT
import PropellerTestSupport
import Testing

/// A real `propeller proplet` process connected to a real broker, with a probe that sees every message
/// of its domain and channel, for integration tests.
struct PropletProcess {
    let process: SpawnedProcess
    let propletID: String
    let topics: Topics
    let probe: MQTTProbe
    let stateDirectory: URL
    let logPath: String

    /// The proplet's pid.
    var pid: Int32 { process.processIdentifier }

    /// The proplet's log so far (for failure messages).
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Publishes a start command for a fixture module.
    func start(
        _ taskID: String,
        fixture: String,
        name: String,
        inputs: [TaskInput] = [],
        cliArgs: [String] = [],
        daemon: Bool = false,
        profile: MonitoringProfile? = nil,
        limits: TaskLimits = .none
    ) async throws {
        let module = try Fixtures.wasm(fixture)
        try await start(
            taskID,
            module: module,
            name: name,
            inputs: inputs,
            cliArgs: cliArgs,
            daemon: daemon,
            profile: profile,
            limits: limits
        )
    }

    /// Publishes a start command for any module bytes.
    func start(
        _ taskID: String,
        module: [UInt8],
        name: String,
        inputs: [TaskInput] = [],
        cliArgs: [String] = [],
        daemon: Bool = false,
        profile: MonitoringProfile? = nil,
        limits: TaskLimits = .none
    ) async throws {
        let command = StartCommand(
            id: taskID,
            name: name,
            propletID: propletID,
            file: Data(module).base64EncodedString(),
            inputs: inputs,
            cliArgs: cliArgs,
            daemon: daemon,
            monitoringProfile: profile ?? .automatic(daemon: daemon),
            limits: limits
        )
        try await probe.client.publish(
            topics.topic(.managerStart, propletID: propletID),
            json: command,
            qos: .atLeastOnce
        )
    }

    /// Publishes a stop command.
    func stop(_ taskID: String) async throws {
        try await probe.client.publish(
            topics.topic(.managerStop, propletID: propletID),
            json: StopCommand(id: taskID, propletID: propletID),
            qos: .atLeastOnce
        )
    }

    /// Decoded messages of one kind received so far.
    func received<T: Decodable>(_ type: T.Type, on kind: Topics.Kind) -> [T] {
        probe.messages.filter { $0.topic == topics.topic(kind, propletID: propletID) }.compactMap {
            try? WireCoding.decode(T.self, from: $0.payload)
        }
    }

    /// Waits for a task's result.
    func result(of taskID: String, timeout: Duration = .seconds(60)) async throws -> TaskResult {
        try await probe.waitUntil(timeout: timeout, "the result of \(taskID)") { _ in
            received(TaskResult.self, on: .propletResults).contains { $0.taskID == taskID }
        }
        return try #require(received(TaskResult.self, on: .propletResults).first { $0.taskID == taskID })
    }

    /// The task samples of one task received on `control/proplet/task_metrics`.
    func samples(of taskID: String) -> [TaskSample] {
        received(TaskSample.self, on: .propletTaskMetrics).filter { $0.taskID == taskID }
    }

    /// The raw result message of a task (to check which keys are present).
    func rawResult(of taskID: String) throws -> [String: Any] {
        let message = try #require(
            probe.messages.first { message in
                message.topic == topics.topic(.propletResults, propletID: propletID)
                    && (try? WireCoding.decode(TaskResult.self, from: message.payload))?.taskID == taskID
            }
        )
        return try #require(JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any])
    }

    /// The pid of the runner of a running task: a child of the proplet whose job file names the task.
    func runnerPid(of taskID: String, timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for child in ProcessTable.children(of: pid)
            where ProcessTable.commandLine(of: child).contains("/\(taskID)-") {
                return child
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ProcessTableError.notFound("a runner process for \(taskID) under proplet \(pid)")
    }
}

/// Runs `body` with a `propeller proplet` process connected to `broker`, configured by the environment
/// (`PROPLET_ID`, a fresh state directory, and a domain/channel of its own unless `environment` says
/// otherwise). Waits for its registration first; stops it with SIGTERM afterwards.
func withProplet<T>(
    broker: MosquittoBroker,
    environment: [String: String] = [:],
    stateDirectory: URL? = nil,
    _ body: (PropletProcess) async throws -> T
) async throws -> T {
    let suffix = UUID().uuidString.prefix(8).lowercased()
    let state = stateDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("proplet-it-\(suffix)")
    let ownsState = stateDirectory == nil
    try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
    var settings: [String: String] = [
        "PROPELLER_MQTT_URL": broker.url,
        "PROPELLER_DOMAIN_ID": "dom-\(suffix)",
        "PROPELLER_CHANNEL_ID": "chan-\(suffix)",
        "PROPLET_STATE_DIR": state.path,
        "PROPLET_LIVELINESS_INTERVAL": "1",
        "PROPLET_METRICS_INTERVAL": "1",
    ]
    settings.merge(environment) { _, new in new }
    let topics = Topics(domainID: settings["PROPELLER_DOMAIN_ID"]!, channelID: settings["PROPELLER_CHANNEL_ID"]!)
    let probe = try await MQTTProbe.start(url: broker.url, filter: topics.base + "#")
    let logPath = state.appendingPathComponent("proplet-\(suffix).log").path
    let process = try SpawnedProcess(
        "/usr/bin/env",
        arguments: settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            + [BinaryLocator.path(of: "propeller"), "proplet"],
        outputFile: logPath
    )
    do {
        let registrations = try await probe.waitUntil(timeout: .seconds(30), "the proplet's registration") { messages in
            messages.contains { topics.kind(of: $0.topic) == .propletCreate }
        }
        let registration = try WireCoding.decode(
            PropletRegistration.self,
            from: registrations.first { topics.kind(of: $0.topic) == .propletCreate }!.payload
        )
        let proplet = PropletProcess(
            process: process,
            propletID: registration.propletID,
            topics: topics,
            probe: probe,
            stateDirectory: state,
            logPath: logPath
        )
        let result = try await body(proplet)
        await process.terminate()
        await probe.stop()
        if ownsState { try? FileManager.default.removeItem(at: state) }
        return result
    } catch {
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        await process.terminate()
        await probe.stop()
        if ownsState { try? FileManager.default.removeItem(at: state) }
        throw PropletProcessError(underlying: error, log: String(log.suffix(3000)))
    }
}

/// An integration test failed; carries the proplet's log tail.
struct PropletProcessError: Error, CustomStringConvertible {
    var underlying: any Error
    var log: String
    var description: String { "\(underlying)\n--- proplet log (tail) ---\n\(log)" }
}
