import Foundation
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

/// The proplet: registers on `control/proplet/{id}/create`, sends heartbeats, publishes its own
/// metrics, and runs the tasks the manager starts on it (SPEC §2).
///
/// Registration goes out on start, after every reconnect of its `PubSub` and whenever a manager says
/// hello (`control/manager/hello`). Samples and results go through the journal (`JournaledPublisher`):
/// numbered, kept until the manager acknowledges them on `control/manager/{id}/ack`, and sent again
/// after a reconnect, on a hello, and when an acknowledgement is overdue. It acts only on commands on
/// its own topics that carry its own `proplet_id`.
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
    private let makeReader: ProcessReaderFactory
    package let supervisor: TaskSupervisor<C>
    /// The journal and the publisher of everything the manager must store.
    package let publisher: JournaledPublisher
    private let counters: Counters

    /// Counters shared by copies of the service.
    private final class Counters: Sendable {
        let dropped = Mutex<Int>(0)
    }

    /// Creates the service with an injected clock and process-reader factory (unit tests). `runtime`
    /// defaults to the configured one, unchecked (`TaskRuntimes.unchecked`).
    ///
    /// - Throws: `PropletError.stateDirectory` when the journal in the state directory cannot be opened.
    package init(
        configuration: PropletConfiguration,
        identity: PropletIdentity,
        pubSub: any PubSub,
        logger: Logger,
        clock: C,
        makeReader: @escaping ProcessReaderFactory,
        runtime: (any TaskRuntime)? = nil
    ) throws(PropletError) {
        self.configuration = configuration
        self.identity = identity
        self.topics = Topics(domainID: configuration.domainID, channelID: configuration.channelID)
        self.pubSub = pubSub
        self.clock = clock
        var logger = logger
        logger[metadataKey: "proplet.id"] = "\(identity.propletID)"
        self.logger = logger
        self.makeReader = makeReader
        self.counters = Counters()
        do {
            try FileManager.default.createDirectory(
                atPath: configuration.stateDirectory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw .stateDirectory(path: configuration.stateDirectory, reason: "cannot create it (\(error))")
        }
        let journal = try PropletJournal(
            path: configuration.stateDirectory + "/journal-\(identity.propletID)",
            maxBytes: configuration.outboxMaxBytes
        )
        let publisher = JournaledPublisher(
            journal: journal,
            pubSub: pubSub,
            ackTimeout: configuration.ackTimeout,
            logger: logger
        )
        self.publisher = publisher
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
            publisher: publisher,
            clock: clock,
            logger: logger,
            makeReader: makeReader
        )
    }

    /// Commands dropped because they could not be decoded.
    public var droppedCommands: Int { counters.dropped.withLock { $0 } }

    /// The last will to register with the broker: an `offline` heartbeat on `control/proplet/{id}/alive`.
    public static func lastWill(identity: PropletIdentity, topics: Topics) -> PubSubMessage {
        let heartbeat = PropletHeartbeat(
            propletID: identity.propletID,
            status: .offline,
            runningTasks: 0,
            timestamp: .now()
        )
        let payload = (try? WireCoding.encode(heartbeat)).map(Array.init) ?? []
        return PubSubMessage(
            topic: topics.topic(.propletAlive, propletID: identity.propletID),
            payload: payload,
            qos: .atLeastOnce
        )
    }

    /// `m/{domain}/c/{channel}/control/manager/{id}/+`: start, stop and ack for this proplet only.
    public var commandFilter: String { topics.base + "control/manager/\(identity.propletID)/+" }

    /// Subscribes to the manager's commands, registers, and serves until graceful shutdown (or the
    /// command stream ends); then stops every task, waits for their results, and goes offline.
    public func run() async throws {
        logger.info(
            "proplet starting",
            metadata: ["name": "\(identity.name)", "wasm_runtime": "\(supervisor.runtimeDescription)"]
        )
        let events = pubSub.connectionEvents()
        let commands = try await pubSub.subscribe(commandFilter, qos: .atLeastOnce)
        let hellos = try await pubSub.subscribe(topics.topic(.managerHello), qos: .atLeastOnce)
        await register(reason: "start")
        try await withThrowingDiscardingTaskGroup { periodic in
            periodic.addTask { await heartbeats() }
            periodic.addTask { await publisher.resendOverdue(clock: clock) }
            if configuration.monitoringEnabled {
                periodic.addTask { await propletMetrics() }
            }
            periodic.addTask {
                for await event in events {
                    guard case .connected(reconnect: true) = event else { continue }
                    await register(reason: "reconnect")
                    await publisher.resend(onlyOverdue: false)
                }
            }
            periodic.addTask {
                for await message in hellos {
                    guard (try? WireCoding.decode(ManagerHello.self, from: message.payload)) != nil else {
                        counters.dropped.withLock { $0 += 1 }
                        logger.warning("undecodable hello dropped", metadata: ["topic": "\(message.topic)"])
                        continue
                    }
                    await register(reason: "hello")
                    await publisher.resend(onlyOverdue: false)
                }
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
                    case .ack(let ack):
                        publisher.acknowledge(ack)
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
        try? await pubSub.publish(
            topics.topic(.propletAlive, propletID: identity.propletID),
            json: offline,
            qos: .atLeastOnce
        )
        logger.info("proplet stopped")
    }

    /// Publishes the registration (on start, after a reconnect, on a manager's hello).
    private func register(reason: String) async {
        let registration = PropletRegistration(
            propletID: identity.propletID,
            name: identity.name,
            metadata: HostDescription.metadata(wasmRuntime: supervisor.runtimeDescription),
            delivery: publisher.journal.cursor
        )
        do {
            try await pubSub.publish(
                topics.topic(.propletCreate, propletID: identity.propletID),
                json: registration,
                qos: .atLeastOnce
            )
            logger.debug("registration sent", metadata: ["reason": "\(reason)"])
        } catch {
            logger.error("cannot publish the registration", metadata: ["error": "\(error)"])
        }
    }

    private enum Command {
        case start(StartCommand)
        case stop(StopCommand)
        case ack(DeliveryAck)
    }

    /// The command a message carries when it is addressed to this proplet; nil otherwise. An
    /// undecodable message is counted and logged with its topic and the reason.
    private func decode(_ message: PubSubMessage) -> Command? {
        do throws(ContractError) {
            guard let (kind, topicID) = topics.parse(message.topic), topicID == identity.propletID else {
                return nil
            }
            switch kind {
            case .managerStart:
                let start = try WireCoding.decode(StartCommand.self, from: message.payload)
                return addressed(start.propletID, start.id) ? .start(start) : nil
            case .managerStop:
                let stop = try WireCoding.decode(StopCommand.self, from: message.payload)
                return addressed(stop.propletID, stop.id) ? .stop(stop) : nil
            case .managerAck:
                let ack = try WireCoding.decode(DeliveryAck.self, from: message.payload)
                return addressed(ack.propletID, "ack") ? .ack(ack) : nil
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

    /// Publishes `alive` now and every liveness interval until cancelled.
    private func heartbeats() async {
        var deadline = clock.now
        while !Task.isCancelled {
            let taskIDs = await supervisor.runningTaskIDs
            let heartbeat = PropletHeartbeat(
                propletID: identity.propletID,
                status: .alive,
                runningTasks: taskIDs.count,
                taskIDs: taskIDs,
                timestamp: .now(),
                delivery: publisher.journal.cursor
            )
            do {
                try await pubSub.publish(
                    topics.topic(.propletAlive, propletID: identity.propletID),
                    json: heartbeat,
                    qos: .atLeastOnce
                )
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
        let reader: any ProcessReading
        do {
            reader = try makeReader(getpid(), .standard)
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
                    metrics: try reader.sample(),
                    host: host.sample(),
                    runningTasks: await supervisor.runningCount
                )
                try await publisher.publish(topics.topic(.propletMetrics), sample) { $0.seq = $1 }
            } catch {
                logger.error("cannot sample or publish proplet metrics", metadata: ["error": "\(error)"])
            }
        }
    }
}

extension PropletService where C == ContinuousClock {
    /// Creates the service with the real clock and the real `/proc` sampler, running tasks with
    /// `runtime` (from `TaskRuntimes.resolve`).
    ///
    /// - Throws: `PropletError.stateDirectory` when the journal in the state directory cannot be opened.
    package init(
        configuration: PropletConfiguration,
        identity: PropletIdentity,
        pubSub: any PubSub,
        logger: Logger,
        runtime: any TaskRuntime
    ) throws(PropletError) {
        try self.init(
            configuration: configuration,
            identity: identity,
            pubSub: pubSub,
            logger: logger,
            clock: ContinuousClock(),
            makeReader: ProcessSampler.factory,
            runtime: runtime
        )
    }
}
