import Foundation
import Logging
import PropellerCore
import PropellerMQTT
import PropellerTestSupport
import ServiceLifecycle
import Synchronization

@testable import PropellerProplet

/// Readings a test scripts for the processes its proplet samples, and the pids sampled.
final class ScriptedReadings: Sendable {
    private struct State {
        var metrics = ProcessMetrics(
            cpuPercent: 12.5,
            memoryBytes: 4 << 20,
            memoryPercent: 0.1,
            diskReadBytes: 0,
            diskWriteBytes: 0,
            uptimeSeconds: 1,
            threadCount: 2,
            fileDescriptorCount: 5
        )
        var cpuSeconds = 0.0
        var pids: [Int32] = []
        var processGone = false
    }

    private let state = Mutex(State())

    /// What every reader returns from now on.
    func set(_ metrics: ProcessMetrics, cpuSeconds: Double = 0) {
        state.withLock {
            $0.metrics = metrics
            $0.cpuSeconds = cpuSeconds
        }
    }

    /// Makes every reader throw, as for a process that has exited.
    func setProcessGone() { state.withLock { $0.processGone = true } }

    /// Pids readers were created for, in order.
    var pids: [Int32] { state.withLock { $0.pids } }

    /// A factory of readers that return the scripted readings, filtered by the profile.
    var factory: ProcessReaderFactory {
        { pid, profile in
            self.state.withLock { $0.pids.append(pid) }
            return ScriptedReader(readings: self, profile: profile)
        }
    }

    fileprivate func read() throws -> (ProcessMetrics, Double) {
        try state.withLock { state in
            if state.processGone { throw ScriptedProcessGone() }
            return (state.metrics, state.cpuSeconds)
        }
    }
}

private struct ScriptedProcessGone: Error {}

private final class ScriptedReader: ProcessReading {
    let readings: ScriptedReadings
    let profile: MonitoringProfile
    var lastCPUSeconds = 0.0

    init(readings: ScriptedReadings, profile: MonitoringProfile) {
        self.readings = readings
        self.profile = profile
    }

    func sample() throws -> ProcessMetrics {
        let (metrics, cpu) = try readings.read()
        lastCPUSeconds = cpu
        return metrics.filtered(by: profile)
    }
}

/// A runner stand-in: a shell script that acts on the task name in its job file.
///
/// `ok` prints a completed outcome with results "42"; `fail` a failed outcome; `sleep` sleeps for a
/// minute; `crash` kills itself with SIGSEGV; `silent` exits 3 without an outcome after writing to
/// stderr; `ignore-term` traps SIGTERM and keeps sleeping.
enum FakeRunner {
    static let script = """
        #!/bin/sh
        job=$(cat "$1")
        case "$job" in
          *'"name":"ok"'*) echo 'log line'; echo '{"state":"completed","results":"42"}' ;;
          *'"name":"fail"'*) echo '{"state":"failed","error":"boom"}' ;;
          *'"name":"sleep"'*) exec sleep 60 ;;
          *'"name":"crash"'*) kill -SEGV $$ ;;
          *'"name":"silent"'*) echo 'runner: something broke' >&2; exit 3 ;;
          *'"name":"ignore-term"'*) trap '' TERM; sleep 60 ;;
          *) echo '{"state":"failed","error":"unknown fake task"}' ;;
        esac
        """

    /// The script's path: written once per test process, with a close-on-exec descriptor, before any
    /// test spawns it. (A script written by each test while other tests spawn children fails to start
    /// with ETXTBSY whenever a child inherits the still-open write descriptor.)
    static let path: String = {
        let path = NSTemporaryDirectory() + "propeller-fake-runner-\(getpid()).sh"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        precondition(fd >= 0, "cannot write \(path)")
        let bytes = Array(script.utf8)
        precondition(write(fd, bytes, bytes.count) == bytes.count, "cannot write \(path)")
        close(fd)
        chmod(path, 0o755)
        return path
    }()
}

/// One proplet under test on an in-memory bus, with a manual clock and scripted readings.
struct PropletHarness {
    let pubSub = InMemoryPubSub()
    let clock = ManualClock()
    let readings = ScriptedReadings()
    let directory: URL
    var configuration: PropletConfiguration
    let identity: PropletIdentity
    let topics: Topics

    init(monitoringEnabled: Bool = true) throws {
        directory = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("proplet-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        configuration = PropletConfiguration()
        configuration.stateDirectory = directory.appendingPathComponent("state").path
        configuration.runnerPath = FakeRunner.path
        configuration.monitoringEnabled = monitoringEnabled
        configuration.stopGracePeriod = .milliseconds(300)
        configuration.domainID = "d1"
        configuration.channelID = "c1"
        identity = PropletIdentity(propletID: "proplet-\(UUID().uuidString.prefix(8))", name: "test")
        topics = Topics(domainID: "d1", channelID: "c1")
    }

    func makeService() throws -> PropletService<ManualClock> {
        try PropletService(
            configuration: configuration,
            identity: identity,
            pubSub: pubSub,
            logger: Logger(label: "proplet-test"),
            clock: clock,
            makeReader: readings.factory
        )
    }

    /// Runs the service while `body` runs, then shuts it down gracefully and waits for it to end.
    func withService(_ body: (PropletService<ManualClock>) async throws -> Void) async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let service = try makeService()
        let group = ServiceGroup(
            configuration: .init(services: [service], logger: Logger(label: "proplet-test-group"))
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await waitFor(1, on: .propletCreate)
                try await body(service)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// A start command for this proplet.
    func start(
        _ id: String,
        name: String,
        profile: MonitoringProfile = .standard,
        daemon: Bool = false,
        file: String? = "AGFzbQEAAAA=",
        imageURL: String? = nil
    ) -> StartCommand {
        StartCommand(
            id: id,
            name: name,
            propletID: identity.propletID,
            file: file,
            imageURL: imageURL,
            daemon: daemon,
            monitoringProfile: profile
        )
    }

    func send(_ command: StartCommand) async throws {
        try await pubSub.publish(
            topics.topic(.managerStart, propletID: identity.propletID),
            json: command,
            qos: .atLeastOnce
        )
    }

    func send(_ command: StopCommand) async throws {
        try await pubSub.publish(
            topics.topic(.managerStop, propletID: identity.propletID),
            json: command,
            qos: .atLeastOnce
        )
    }

    func sendRaw(_ kind: Topics.Kind, _ text: String) async throws {
        try await pubSub.publish(
            topics.topic(kind, propletID: identity.propletID),
            payload: Array(text.utf8),
            qos: .atLeastOnce,
            retain: false
        )
    }

    /// Messages published so far on a topic kind.
    func messages(on kind: Topics.Kind) -> [PubSubMessage] {
        pubSub.publishedMessages.filter { $0.topic == topics.topic(kind, propletID: identity.propletID) }
    }

    /// Decoded messages on a topic kind.
    func decoded<T: Decodable>(_ type: T.Type, on kind: Topics.Kind) throws -> [T] {
        try messages(on: kind).map { try WireCoding.decode(T.self, from: $0.payload) }
    }

    /// Waits (real time, bounded) until at least `count` messages are on a topic kind.
    @discardableResult
    func waitFor(_ count: Int, on kind: Topics.Kind, timeout: Duration = .seconds(20)) async throws -> [PubSubMessage] {
        let limit = ContinuousClock.now.advanced(by: timeout)
        while true {
            let found = messages(on: kind)
            if found.count >= count { return found }
            guard ContinuousClock.now < limit else { throw TestTimeout(what: "\(count) messages on \(kind.rawValue)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The results published so far.
    func results() throws -> [TaskResult] { try decoded(TaskResult.self, on: .propletResults) }

    /// Waits for the result of one task.
    func result(of taskID: String, timeout: Duration = .seconds(20)) async throws -> TaskResult {
        let limit = ContinuousClock.now.advanced(by: timeout)
        while true {
            if let found = try results().first(where: { $0.taskID == taskID }) { return found }
            guard ContinuousClock.now < limit else { throw TestTimeout(what: "the result of \(taskID)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
