import Logging
import PropellerCore
import PropellerMQTT
import PropellerMonitoring
import PropellerRegistry
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The proplet: registers on `control/proplet/create`, sends heartbeats, publishes its own metrics,
/// and runs the tasks the manager starts on it (SPEC §2).
///
/// `run()` expects a `PubSub` that is connected (or connecting: QoS 1 messages wait in its outbox)
/// with the last will set (see `PropletService.lastWill`). On graceful shutdown it stops accepting
/// commands, stops every running task (their results are published as `stopped`), and publishes an
/// `offline` heartbeat.
public struct PropletService<C: Clock>: Service where C.Duration == Duration {
    /// The configuration it was created with.
    public let configuration: PropletConfiguration
    /// Its id and name.
    public let identity: PropletIdentity
    /// Its topics.
    public let topics: Topics
    private let pubSub: any PubSub
    private let clock: C
    private let logger: Logger
    private let makeSampler: ProcessSamplerFactory
    package let supervisor: TaskSupervisor<C>
    private let counters: Counters

    /// Counters shared by copies of the service.
    private final class Counters: Sendable {
        let dropped = Mutex<Int>(0)
    }

    /// Creates the service with an injected clock and process-sampler factory (unit tests). `runtime`
    /// defaults to the configured one, unchecked (`TaskRuntimes.unchecked`).
    package init(
        configuration: PropletConfiguration,
        identity: PropletIdentity,
        pubSub: any PubSub,
        logger: Logger,
        clock: C,
        makeSampler: @escaping ProcessSamplerFactory,
        runtime: (any TaskRuntime)? = nil
    ) {
        self.configuration = configuration
        self.identity = identity
        self.topics = Topics(domainID: configuration.domainID, channelID: configuration.channelID)
        self.pubSub = pubSub
        self.clock = clock
        var logger = logger
        logger[metadataKey: "proplet.id"] = "\(identity.propletID)"
        self.logger = logger
        self.makeSampler = makeSampler
        self.counters = Counters()
        let registry = configuration.registry
        self.supervisor = TaskSupervisor(
            settings: .init(
                runtime: runtime ?? TaskRuntimes.unchecked(configuration),
                limits: configuration.taskLimits,
                workDirectory: configuration.stateDirectory + "/tasks",
                stopGracePeriod: configuration.stopGracePeriod,
                monitoringEnabled: configuration.monitoringEnabled,
                fetchModule: { [logger] imageURL in
                    // Made per fetch: image_url tasks are rare next to samples, and the cache is on disk.
                    try await ModuleFetcher(configuration: registry, logger: logger).fetch(imageURL)
                }
            ),
            propletID: identity.propletID,
            topics: topics,
            pubSub: pubSub,
            clock: clock,
            logger: logger,
            makeSampler: makeSampler
        )
    }

    /// Commands dropped because they could not be decoded.
    public var droppedCommands: Int { counters.dropped.withLock { $0 } }

    /// The last will to register with the broker: an `offline` heartbeat on `control/proplet/alive`.
    public static func lastWill(identity: PropletIdentity, topics: Topics) -> PubSubMessage {
        let heartbeat = PropletHeartbeat(
            propletID: identity.propletID,
            status: .offline,
            runningTasks: 0,
            timestamp: .now()
        )
        let payload = (try? WireCoding.encode(heartbeat)).map(Array.init) ?? []
        return PubSubMessage(topic: topics.topic(.propletAlive), payload: payload, qos: .atLeastOnce)
    }

    /// Subscribes to the manager's commands, registers, and serves until graceful shutdown (or the
    /// command stream ends); then stops every task, waits for their results, and goes offline.
    public func run() async throws {
        logger.info(
            "proplet starting",
            metadata: ["name": "\(identity.name)", "wasm_runtime": "\(supervisor.runtimeDescription)"]
        )
        let commands = try await pubSub.subscribe(topics.base + "control/manager/+", qos: .atLeastOnce)
        let registration = PropletRegistration(
            propletID: identity.propletID,
            name: identity.name,
            metadata: HostDescription.metadata(wasmRuntime: supervisor.runtimeDescription)
        )
        try await pubSub.publish(topics.topic(.propletCreate), json: registration, qos: .atLeastOnce)
        try await withThrowingDiscardingTaskGroup { periodic in
            periodic.addTask { await heartbeats() }
            if configuration.monitoringEnabled {
                periodic.addTask { await propletMetrics() }
            }
            await withDiscardingTaskGroup { tasks in
                for await message in commands.cancelOnGracefulShutdown() {
                    guard let command = decode(message) else { continue }
                    switch command {
                    case .start(let start):
                        if await supervisor.admit(start) {
                            tasks.addTask { await supervisor.run(start) }
                        } else {
                            logger.warning(
                                "duplicate start of a running task ignored",
                                metadata: ["task.id": "\(start.id)"]
                            )
                        }
                    case .stop(let stop):
                        if await !supervisor.stop(taskID: stop.id) {
                            logger.notice(
                                "stop for a task that is not running here",
                                metadata: ["task.id": "\(stop.id)"]
                            )
                        }
                    }
                }
                logger.info("proplet shutting down; stopping running tasks")
                await supervisor.stopAll(reason: .shutdown)
            }
            periodic.cancelAll()
        }
        let offline = PropletHeartbeat(
            propletID: identity.propletID,
            status: .offline,
            runningTasks: 0,
            timestamp: .now()
        )
        try? await pubSub.publish(topics.topic(.propletAlive), json: offline, qos: .atLeastOnce)
        logger.info("proplet stopped")
    }

    private enum Command {
        case start(StartCommand)
        case stop(StopCommand)
    }

    /// The command a message carries when it is addressed to this proplet; nil otherwise. An
    /// undecodable message is counted and logged with its topic and the reason.
    private func decode(_ message: PubSubMessage) -> Command? {
        do throws(ContractError) {
            switch topics.kind(of: message.topic) {
            case .managerStart?:
                let start = try WireCoding.decode(StartCommand.self, from: message.payload)
                return addressed(start.propletID, start.id) ? .start(start) : nil
            case .managerStop?:
                let stop = try WireCoding.decode(StopCommand.self, from: message.payload)
                return addressed(stop.propletID, stop.id) ? .stop(stop) : nil
            default:
                return nil
            }
        } catch {
            counters.dropped.withLock { $0 += 1 }
            logger.warning(
                "undecodable command dropped",
                metadata: ["topic": "\(message.topic)", "reason": "\(error)"]
            )
            return nil
        }
    }

    private func addressed(_ propletID: String, _ taskID: String) -> Bool {
        guard propletID == identity.propletID else {
            logger.debug("command for another proplet ignored", metadata: ["task.id": "\(taskID)"])
            return false
        }
        return true
    }

    /// Publishes `alive` now and every `livelinessInterval` (`PROPLET_LIVELINESS_INTERVAL`) until cancelled.
    private func heartbeats() async {
        var deadline = clock.now
        while !Task.isCancelled {
            let heartbeat = PropletHeartbeat(
                propletID: identity.propletID,
                status: .alive,
                runningTasks: await supervisor.runningCount,
                timestamp: .now()
            )
            do {
                try await pubSub.publish(topics.topic(.propletAlive), json: heartbeat, qos: .atLeastOnce)
            } catch {
                logger.error("cannot publish a heartbeat", metadata: ["error": "\(error)"])
            }
            deadline = deadline.advanced(by: configuration.livelinessInterval)
            do {
                try await clock.sleep(until: deadline, tolerance: nil)
            } catch {
                return
            }
        }
    }

    /// Publishes a proplet-level sample every metrics interval until cancelled.
    private func propletMetrics() async {
        let sampler: any ProcessSampling
        do {
            sampler = try makeSampler(getpid(), .standard)
        } catch {
            logger.error(
                "proplet metrics disabled: cannot read the proplet's own process",
                metadata: ["error": "\(error)"]
            )
            return
        }
        var host = HostSampler()
        var deadline = clock.now
        while !Task.isCancelled {
            deadline = deadline.advanced(by: configuration.metricsInterval)
            do {
                try await clock.sleep(until: deadline, tolerance: nil)
            } catch {
                return
            }
            do {
                let sample = PropletSample(
                    propletID: identity.propletID,
                    timestamp: .now(),
                    metrics: try sampler.sample(),
                    host: host.sample(),
                    runningTasks: await supervisor.runningCount
                )
                try await pubSub.publish(topics.topic(.propletMetrics), json: sample, qos: .atLeastOnce)
            } catch {
                logger.error("cannot sample or publish proplet metrics", metadata: ["error": "\(error)"])
            }
        }
    }
}

extension PropletService where C == ContinuousClock {
    /// Creates the service with the real clock and the real `/proc` sampler, running tasks with
    /// `runtime` (from `TaskRuntimes.resolve`).
    package init(
        configuration: PropletConfiguration,
        identity: PropletIdentity,
        pubSub: any PubSub,
        logger: Logger,
        runtime: any TaskRuntime
    ) {
        self.init(
            configuration: configuration,
            identity: identity,
            pubSub: pubSub,
            logger: logger,
            clock: ContinuousClock(),
            makeSampler: ProcessSampler.factory,
            runtime: runtime
        )
    }
}
