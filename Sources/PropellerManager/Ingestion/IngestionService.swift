import Logging
import PropellerCore
import PropellerMQTT
import ServiceLifecycle

/// Subscribes to the proplets' control topics (SPEC §2) and turns every message into stored state:
/// registrations and heartbeats into the proplet registry, results into task state, samples into
/// batched writes.
///
/// Decoding is strict (`WireCoding`); a message that does not decode is dropped, counted
/// (`propeller_ingest_messages_dropped_total{reason="undecodable"}`) and logged with its topic and the
/// reason. Samples keep their own timestamp. `onSubscribed` runs once every subscription is in place. The PubSub client restores subscriptions after a reconnect.
public struct IngestionService: Service {
    let tasks: TaskService
    let registry: PropletRegistry
    let store: any Store
    let metrics: ManagerMetrics
    let pubsub: any PubSub
    let topics: Topics
    let batchSize: Int
    let flushInterval: Duration
    let logger: Logger
    let onSubscribed: @Sendable () async -> Void
    /// Live subscribers of stored samples (`GET /tasks/{id}/metrics/stream`); nil: nobody listens.
    let feed: TaskSampleFeed?

    /// Creates the service; `batchSize` samples per transaction at most, flushed at least every `flushInterval`.
    public init(
        tasks: TaskService,
        registry: PropletRegistry,
        store: any Store,
        metrics: ManagerMetrics,
        pubsub: any PubSub,
        topics: Topics,
        batchSize: Int = 500,
        flushInterval: Duration = .milliseconds(100),
        logger: Logger,
        feed: TaskSampleFeed? = nil,
        onSubscribed: @escaping @Sendable () async -> Void = {}
    ) {
        self.onSubscribed = onSubscribed
        self.tasks = tasks
        self.feed = feed
        self.registry = registry
        self.store = store
        self.metrics = metrics
        self.pubsub = pubsub
        self.topics = topics
        self.batchSize = batchSize
        self.flushInterval = flushInterval
        self.logger = logger
    }

    /// The MQTT shared-subscription group of several managers on one database (`propeller-managers`:
    /// the broker hands each message to one of them), or nil for a plain subscription. Default nil.
    public var sharedGroup: String?

    /// The one subscription: `m/{domain}/c/{channel}/control/proplet/+` (one filter to match per message
    /// instead of five), as `$share/{group}/…` when the managers share the work.
    public var subscriptionFilter: String {
        (sharedGroup.map { "$share/\($0)/" } ?? "") + topics.base + "control/proplet/+"
    }

    /// Subscribes, then consumes until cancelled or gracefully shut down (buffered samples are written first).
    public func run() async throws {
        let stream = try await pubsub.subscribe(subscriptionFilter, qos: .atLeastOnce)
        logger.info("ingestion subscribed", metadata: ["mqtt.filter": "\(subscriptionFilter)"])
        await onSubscribed()
        let batcher = SampleBatcher(batchSize: batchSize)
        // Samples are decoded on the reading task; registrations, heartbeats and results (rare, and they
        // wait for a store transaction) go to their own task so they never hold up samples.
        let (control, controlContinuation) = AsyncStream<(PubSubMessage, Topics.Kind)>.makeStream()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.write(batcher.batches) }
            group.addTask {
                for await (message, kind) in control { await self.handle(message, kind: kind, batcher: batcher) }
            }
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { readers in
                    readers.addTask {
                        await self.read(stream, batcher: batcher, control: controlContinuation)
                    }
                    readers.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: self.flushInterval)
                            batcher.flush()
                        }
                    }
                }
            }
            controlContinuation.finish()
            batcher.finish()
        }
        logger.info("ingestion stopped")
    }

    private func read(
        _ stream: AsyncStream<PubSubMessage>,
        batcher: SampleBatcher,
        control: AsyncStream<(PubSubMessage, Topics.Kind)>.Continuation
    ) async {
        let base = topics.base
        for await message in stream {
            guard message.topic.hasPrefix(base),
                let kind = Topics.Kind(rawValue: String(message.topic.utf8.dropFirst(base.utf8.count))!)
            else {
                metrics.messageDropped(reason: "unexpected_topic")
                continue
            }
            switch kind {
            case .propletTaskMetrics, .propletMetrics:
                await handle(message, kind: kind, batcher: batcher)
            default:
                control.yield((message, kind))
            }
        }
    }

    /// The counter label of a topic kind: its last level (`task_metrics`, `alive`, …).
    static func label(of kind: Topics.Kind) -> String {
        switch kind {
        case .propletCreate: "create"
        case .propletAlive: "alive"
        case .propletResults: "results"
        case .propletTaskMetrics: "task_metrics"
        case .propletMetrics: "metrics"
        case .managerStart: "start"
        case .managerStop: "stop"
        case .metricsProplet: "metrics_proplet"
        }
    }

    /// Decodes one message and applies it.
    func handle(_ message: PubSubMessage, kind: Topics.Kind, batcher: SampleBatcher) async {
        metrics.messageReceived(kind: Self.label(of: kind))
        do throws(ContractError) {
            switch kind {
            case .propletTaskMetrics:
                batcher.append(try WireCoding.decode(TaskSample.self, from: message.payload))
            case .propletMetrics:
                batcher.append(try WireCoding.decode(PropletSample.self, from: message.payload))
            case .propletCreate:
                let registration = try WireCoding.decode(PropletRegistration.self, from: message.payload)
                await apply(message) { () throws(ManagerError) in try await registry.register(registration) }
            case .propletAlive:
                let heartbeat = try WireCoding.decode(PropletHeartbeat.self, from: message.payload)
                await apply(message) { () throws(ManagerError) in try await registry.heartbeat(heartbeat) }
            case .propletResults:
                let result = try WireCoding.decode(TaskResult.self, from: message.payload)
                await apply(message) { () throws(ManagerError) in
                    switch try await tasks.apply(result) {
                    case .applied:
                        notifyFeed(of: result)
                    case .unknownTask, .notAssigned:
                        metrics.messageDropped(reason: "unknown_task")
                        logger.warning(
                            "results dropped: unknown task or another proplet's",
                            metadata: ["task.id": "\(result.taskID)", "proplet.id": "\(result.propletID)"]
                        )
                    case .alreadyFinished:
                        logger.debug(
                            "repeated results ignored",
                            metadata: ["task.id": "\(result.taskID)", "proplet.id": "\(result.propletID)"]
                        )
                    }
                }
            case .managerStart, .managerStop, .metricsProplet:
                metrics.messageDropped(reason: "unexpected_topic")
            }
        } catch {
            metrics.messageDropped(reason: "undecodable")
            logger.warning(
                "message dropped: undecodable",
                metadata: ["topic": "\(message.topic)", "reason": "\(error)", "bytes": "\(message.payload.count)"]
            )
        }
    }

    /// The final sample and the end of the task's live streams.
    private func notifyFeed(of result: TaskResult) {
        guard let feed else { return }
        if let final = result.finalMetrics {
            feed.publish([
                TaskSample(
                    taskID: result.taskID,
                    propletID: result.propletID,
                    metrics: final.metrics,
                    aggregated: final.aggregated,
                    timestamp: final.timestamp
                )
            ])
        }
        feed.taskEnded(id: result.taskID, state: result.state)
    }

    private func apply(_ message: PubSubMessage, _ body: () async throws(ManagerError) -> Void) async {
        do {
            try await body()
        } catch {
            metrics.messageDropped(reason: "store_error")
            logger.error("message not applied", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }

    /// Writes batches in order until the batcher finishes.
    func write(_ batches: AsyncStream<SampleBatcher.Batch>) async {
        for await batch in batches {
            switch batch {
            case .task(let samples):
                do {
                    let stored = try await store.insertTaskSamples(samples)
                    metrics.samplesStored(stored, kind: "task")
                } catch {
                    metrics.messageDropped(reason: "store_error", count: samples.count)
                    logger.error(
                        "task samples not stored",
                        metadata: ["count": "\(samples.count)", "error": "\(error)"]
                    )
                    continue
                }
                feed?.publish(samples)
                await metrics.updateTaskGauges(from: samples) { id in try? await store.task(id: id) }
            case .proplet(let samples):
                do {
                    let stored = try await store.insertPropletSamples(samples)
                    metrics.samplesStored(stored, kind: "proplet")
                } catch {
                    metrics.messageDropped(reason: "store_error", count: samples.count)
                    logger.error(
                        "proplet samples not stored",
                        metadata: ["count": "\(samples.count)", "error": "\(error)"]
                    )
                    continue
                }
                var latest: [String: PropletSample] = [:]
                for sample in samples
                where sample.timestamp >= (latest[sample.propletID]?.timestamp ?? sample.timestamp) {
                    latest[sample.propletID] = sample
                }
                for sample in latest.values { metrics.updateProplet(sample) }
            }
        }
    }
}
