import Foundation
import Logging
import PropellerCore
import PropellerMQTT
import PropellerMonitoring

#if canImport(Glibc)
import Glibc
#endif

/// Runs tasks as child processes of the configured Wasm runtime (`TaskRuntime`), one process per
/// task, and reports each outcome exactly once on `control/proplet/{id}/results` (through the journal,
/// so it survives until the manager acknowledges it).
///
/// A task is admitted (`admit`), then run (`run`) in a child task of the proplet's task group: the
/// module and the runner job are written to the state directory, the runner is spawned, a
/// `TaskMonitor` is bound to its pid when monitoring applies, and the runner's outcome (or its crash)
/// becomes the `TaskResult`. `stop` sends SIGTERM, then SIGKILL after the grace period.
///
/// The final sample follows the runner protocol's handshake (`RunnerOutcome`): when the runner has
/// written its outcome it waits; the supervisor reads the live process once more
/// (`TaskMonitor.captureFinalReading`) and then closes the runner's stdin (`ChildProcess.release`) so it
/// exits. A stop reads the process the same way just before signalling it. Every runtime's runner must
/// keep this handshake for its tasks' final samples to be complete.
///
/// Limits (SPEC §5): the task's `limits` with the proplet's defaults and ceilings applied. CPU time is
/// `RLIMIT_CPU` on the process (SIGXCPU at the limit, SIGKILL a second later); the timeout is a timer
/// here that kills the process; memory is enforced by the runtime on `memory.grow`.
package actor TaskSupervisor<C: Clock> where C.Duration == Duration {
    /// What the supervisor needs from the configuration.
    package struct Settings: Sendable {
        /// How task processes run Wasm.
        package var runtime: any TaskRuntime
        /// The proplet's limit defaults and ceilings (`PROPLET_TASK_*`).
        package var limits: TaskLimits
        /// Where module and job files are written (created if needed).
        package var workDirectory: String
        /// SIGTERM → SIGKILL delay.
        package var stopGracePeriod: Duration
        /// `PROPLET_ENABLE_MONITORING`.
        package var monitoringEnabled: Bool
        /// Fetches the module of an `image_url` task (OCI reference or http(s) URL); nil rejects such tasks.
        package var fetchModule: (@Sendable (String) async throws -> [UInt8])?

        /// Creates the settings.
        package init(
            runtime: any TaskRuntime,
            limits: TaskLimits = .none,
            workDirectory: String,
            stopGracePeriod: Duration,
            monitoringEnabled: Bool,
            fetchModule: (@Sendable (String) async throws -> [UInt8])? = nil
        ) {
            self.runtime = runtime
            self.limits = limits
            self.workDirectory = workDirectory
            self.stopGracePeriod = stopGracePeriod
            self.monitoringEnabled = monitoringEnabled
            self.fetchModule = fetchModule
        }
    }

    private final class Entry {
        var stopReason: TaskStopReason?
        let stops: AsyncStream<Void>
        let stopContinuation: AsyncStream<Void>.Continuation
        var pid: Int32?

        init() {
            (stops, stopContinuation) = AsyncStream<Void>.makeStream()
        }
    }

    private let settings: Settings
    private let propletID: String
    private let topics: Topics
    private let pubSub: any PubSub
    private let publisher: JournaledPublisher
    private let clock: C
    private let logger: Logger
    private let makeReader: ProcessReaderFactory
    private let totalMemoryBytes: Int64
    private var entries: [String: Entry] = [:]

    /// Creates a supervisor. `clock` drives the monitors' sampling intervals; `makeReader` creates the
    /// per-task process reader (`ProcessSampler.factory` outside unit tests).
    package init(
        settings: Settings,
        propletID: String,
        topics: Topics,
        pubSub: any PubSub,
        publisher: JournaledPublisher,
        clock: C,
        logger: Logger,
        makeReader: @escaping ProcessReaderFactory = ProcessSampler.factory,
        totalMemoryBytes: Int64 = HostSampler.totalMemoryBytes()
    ) {
        self.settings = settings
        self.propletID = propletID
        self.topics = topics
        self.pubSub = pubSub
        self.publisher = publisher
        self.clock = clock
        self.logger = logger
        self.makeReader = makeReader
        self.totalMemoryBytes = totalMemoryBytes
    }

    /// The registration's `wasm_runtime`.
    package nonisolated var runtimeDescription: String { settings.runtime.description }

    /// Tasks admitted and not yet reported.
    package var runningCount: Int { entries.count }

    /// The ids of the tasks admitted and not yet reported, sorted (the heartbeat's `task_ids`).
    package var runningTaskIDs: [String] { entries.keys.sorted() }

    /// The runner pid of a running task, once spawned.
    package func pid(of taskID: String) -> Int32? { entries[taskID]?.pid }

    /// Reserves a task id; false when a task with that id is already running here (a duplicate start).
    package func admit(_ command: StartCommand) -> Bool {
        guard entries[command.id] == nil else { return false }
        entries[command.id] = Entry()
        return true
    }

    /// Asks a running task to stop (SIGTERM, then SIGKILL after the grace period); its result is
    /// reported by `run` as `stopped`. Returns false when no such task runs here.
    @discardableResult
    package func stop(taskID: String, reason: TaskStopReason = .requested) -> Bool {
        guard let entry = entries[taskID] else { return false }
        if entry.stopReason == nil { entry.stopReason = reason }
        entry.stopContinuation.yield()
        return true
    }

    /// Records that a task ran past its timeout (unless it is already being stopped for another reason).
    private func markTimedOut(_ taskID: String, seconds: Int) {
        guard let entry = entries[taskID], entry.stopReason == nil else { return }
        entry.stopReason = .timeout(seconds: seconds)
    }

    /// Stops every running task (graceful shutdown).
    package func stopAll(reason: TaskStopReason) {
        for taskID in entries.keys { stop(taskID: taskID, reason: reason) }
    }

    /// Whether a task is monitored: its profile must be enabled; when the proplet's monitoring is off
    /// (`PROPLET_ENABLE_MONITORING=false`), its profile must also have been chosen explicitly.
    ///
    /// The start command always carries the resolved profile, in which `enabled` is always present, so
    /// the proplet cannot see whether a user wrote `"enabled": true`. It takes a profile that differs
    /// from the automatic one (`standard`, or `daemon` for daemon tasks) as that explicit choice: a
    /// named profile such as `intensive`, or a partial or full object that changes something.
    package static func isMonitored(_ command: StartCommand, monitoringEnabled: Bool) -> Bool {
        let profile = command.monitoringProfile
        guard profile.enabled else { return false }
        return monitoringEnabled || profile != MonitoringProfile.automatic(daemon: command.daemon)
    }

    /// Runs an admitted task to its end and publishes its one result.
    package func run(_ command: StartCommand) async {
        let startedAt = Timestamp.now()
        let entry = entries[command.id] ?? Entry()
        entries[command.id] = entry
        var logger = self.logger
        logger[metadataKey: "task.id"] = "\(command.id)"
        var result: TaskResult
        do {
            result = try await execute(command, entry: entry, startedAt: startedAt, logger: logger)
        } catch {
            logger.warning("task could not be started", metadata: ["error": "\(error)"])
            result = TaskResult(
                taskID: command.id,
                propletID: propletID,
                state: .failed,
                error: "\(error)",
                startedAt: startedAt,
                finishedAt: .now()
            )
        }
        entry.stopContinuation.finish()
        entries[command.id] = nil
        logger.info(
            "task finished",
            metadata: ["state": "\(result.state.rawValue)", "error": "\(result.error ?? "none")"]
        )
        do {
            try await publisher.publish(topics.topic(.propletResults, propletID: propletID), result) { $0.seq = $1 }
        } catch {
            logger.error("cannot publish the task result", metadata: ["error": "\(error)"])
        }
    }

    private func execute(
        _ command: StartCommand,
        entry: Entry,
        startedAt: Timestamp,
        logger: Logger
    ) async throws(PropletError) -> TaskResult {
        var fetched: [UInt8]?
        if command.file == nil, let imageURL = command.imageURL {
            guard let fetchModule = settings.fetchModule else {
                throw .moduleUnavailable(reason: "image_url is not supported by this proplet; send the module in file")
            }
            do {
                fetched = try await fetchModule(imageURL)
            } catch {
                throw .moduleUnavailable(reason: "\(error)")
            }
            logger.info("module fetched", metadata: ["image_url": "\(imageURL)", "bytes": "\(fetched?.count ?? 0)"])
        }
        let limits = command.limits.applying(proplet: settings.limits)
        if limits != command.limits {
            logger.info("task limits with the proplet's defaults and ceilings", metadata: ["limits": "\(limits)"])
        }
        let files = try TaskFiles.write(command, fetchedModule: fetched, limits: limits, into: settings.workDirectory)
        defer { files.remove() }
        let plan: TaskProcessPlan
        switch try await settings.runtime.launch(
            files.job,
            jobPath: files.jobPath,
            module: files.module,
            digest: files.digest
        ) {
        case .process(let process):
            plan = process
        case .finished(let outcome):
            var result = RunnerResultInterpreter.result(of: outcome)
            result.taskID = command.id
            result.propletID = propletID
            result.startedAt = startedAt
            result.finishedAt = .now()
            return result
        }
        let child = try ChildProcess.spawn(
            executable: plan.executable,
            arguments: plan.arguments,
            environment: plan.environment,
            stdoutRetention: plan.stdoutRetention,
            limits: Self.processLimits(limits),
            finalSampleHandshake: plan.finalSampleHandshake
        )
        let spawnedAt = ContinuousClock.now
        entry.pid = child.pid
        logger.info("task started", metadata: ["pid": "\(child.pid)", "name": "\(command.name)"])
        var monitor: TaskMonitor?
        if Self.isMonitored(command, monitoringEnabled: settings.monitoringEnabled) {
            do {
                monitor = try TaskMonitor(
                    taskID: command.id,
                    propletID: propletID,
                    profile: command.monitoringProfile,
                    pid: child.pid,
                    spawnedAt: spawnedAt,
                    totalMemoryBytes: totalMemoryBytes,
                    makeReader: makeReader
                )
            } catch {
                logger.warning("task runs unmonitored: cannot read its process", metadata: ["error": "\(error)"])
            }
        }
        let taskID = command.id
        let exit = await supervise(
            child,
            monitor: monitor,
            probes: !plan.finalSampleHandshake,
            stops: entry.stops,
            timeout: limits.timeoutSeconds
        ) { seconds in await self.markTimedOut(taskID, seconds: seconds) }
        child.release()
        var finalMetrics: FinalMetrics?
        if let monitor {
            let (sample, final) = await monitor.finalSample(exit: exit)
            if command.monitoringProfile.exportToMQTT { await publish(sample) }
            finalMetrics = final
        }
        var result = RunnerResultInterpreter.result(
            of: exit,
            outcome: plan.outcome(exit),
            stopReason: entry.stopReason,
            limits: limits
        )
        result.taskID = command.id
        result.propletID = propletID
        result.startedAt = startedAt
        result.finishedAt = .now()
        result.finalMetrics = finalMetrics
        return result
    }

    /// The kernel limits of a task's process: `RLIMIT_CPU` (soft = the limit, hard one second more) and
    /// no core files (SIGXCPU would otherwise dump one).
    static func processLimits(_ limits: TaskLimits) -> [ChildProcess.ResourceLimit] {
        guard let cpu = limits.cpuSeconds else { return [] }
        return [
            .init(resource: Int32(RLIMIT_CPU.rawValue), soft: UInt64(cpu), hard: UInt64(cpu) + 1),
            .init(resource: Int32(RLIMIT_CORE.rawValue), soft: 0, hard: 0),
        ]
    }

    /// Waits for the child to exit while its monitor samples and stop requests are served; after
    /// `timeout` seconds, `timedOut` is called and the child is killed.
    private func supervise(
        _ child: ChildProcess,
        monitor: TaskMonitor?,
        probes: Bool,
        stops: AsyncStream<Void>,
        timeout: Int?,
        timedOut: @escaping @Sendable (Int) async -> Void
    ) async
        -> ChildProcess.Exit
    {
        let grace = settings.stopGracePeriod
        let clock = self.clock
        return await withTaskGroup(of: Void.self) { group in
            if let monitor {
                let exports = monitor.profile.exportToMQTT
                group.addTask {
                    await monitor.runPeriodic(clock: clock) { sample in
                        if exports { await self.publish(sample) }
                    }
                }
            }
            // A process without the handshake is read early and every 100 ms until its first periodic
            // sample, so even a task shorter than one interval has live threads and fds (`probe`).
            if probes, let monitor {
                group.addTask {
                    var delay = Duration.milliseconds(20)
                    for _ in 0..<100 {
                        do {
                            try await Task.sleep(for: delay)
                        } catch {
                            return
                        }
                        guard await monitor.probe() else { return }
                        delay = .milliseconds(100)
                    }
                }
            }
            // The runner protocol's final-sample handshake (see `RunnerOutcome`): once the runner has
            // reported, read the live process one last time, then let it exit.
            group.addTask {
                if await child.waitForReport() { await monitor?.captureFinalReading() }
                child.release()
            }
            if let timeout {
                group.addTask {
                    do {
                        try await Task.sleep(for: .seconds(timeout))
                    } catch {
                        return
                    }
                    await timedOut(timeout)
                    child.signal(SIGKILL)
                }
            }
            group.addTask {
                for await _ in stops {
                    await monitor?.captureFinalReading()
                    child.signal(SIGTERM)
                    do {
                        try await Task.sleep(for: grace)
                    } catch {
                        return
                    }
                    child.signal(SIGKILL)
                    return
                }
            }
            let exit = await withTaskCancellationHandler {
                await child.waitForExit()
            } onCancel: {
                child.signal(SIGKILL)
            }
            group.cancelAll()
            return exit
        }
    }

    /// Publishes a task sample on `control/proplet/task_metrics` (QoS 1, journaled, with its `seq`) and
    /// the same bytes on `metrics/proplet` (QoS 0).
    private nonisolated func publish(_ sample: TaskSample) async {
        do {
            let payload = try await publisher.publish(topics.topic(.propletTaskMetrics), sample) { $0.seq = $1 }
            try await pubSub.publish(topics.topic(.metricsProplet), payload: payload, qos: .atMostOnce, retain: false)
        } catch {
            logger.error(
                "cannot publish a task sample",
                metadata: ["task.id": "\(sample.taskID)", "error": "\(error)"]
            )
        }
    }
}
