import Logging
import PropellerCore
import PropellerMQTT
import ServiceLifecycle

/// Subscribes to the proplets' control topics (SPEC §2) and turns every message into stored state:
/// registrations and heartbeats into the proplet registry (and reconciliation), results into task
/// state, samples into batched writes.
///
/// Decoding is strict (`WireCoding`); a message that does not decode is dropped, counted
/// (`propeller_ingest_messages_dropped_total{reason="undecodable"}`) and logged with its topic and the
/// reason. Every decoded message is then checked (`IngestRules`, SPEC §2 "What the manager accepts"):
/// identity, assignment, state, ranges, timestamp window; what fails is dropped and counted by reason,
/// and never changes a task or creates a row. Samples keep their own timestamp.
///
/// Delivery (SPEC §2): samples and results are committed, then their `seq`s are recorded in the
/// store's ledger and acknowledged per batch on `control/manager/{proplet_id}/ack` with the proplet's
/// contiguous mark (`DeliveryStore`); a resent message is stored once. Every time the MQTT client
/// connects, `control/manager/hello` asks every proplet to register and resend what is not
/// acknowledged. `onSubscribed` runs once every subscription is in place; the PubSub client restores
/// subscriptions after a reconnect.
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
    let rules: IngestRules
    let delivery: DeliveryAcknowledger
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
        clockSkewSeconds: Int = 5,
        managerID: String = "propeller-manager",
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
        rules = IngestRules(clockSkewSeconds: Double(clockSkewSeconds))
        delivery = DeliveryAcknowledger(
            store: store,
            pubsub: pubsub,
            topics: topics,
            metrics: metrics,
            managerID: managerID,
            time: tasks.time,
            logger: logger
        )
    }

    /// The MQTT shared-subscription group of several managers on one database (`propeller-managers`:
    /// the broker hands each message to one of them), or nil for a plain subscription. Default nil.
    public var sharedGroup: String?

    /// The one subscription: `m/{domain}/c/{channel}/control/proplet/#` (every proplet's create, alive
    /// and results topics and the two shared sample topics; one filter to match per message instead of
    /// five), as `$share/{group}/…` when the managers share the work.
    public var subscriptionFilter: String {
        (sharedGroup.map { "$share/\($0)/" } ?? "") + topics.base + "control/proplet/#"
    }

    /// Subscribes, then consumes until cancelled or gracefully shut down (buffered samples are written first).
    public func run() async throws {
        let events = pubsub.connectionEvents()
        let stream = try await pubsub.subscribe(subscriptionFilter, qos: .atLeastOnce)
        logger.info("ingestion subscribed", metadata: ["mqtt.filter": "\(subscriptionFilter)"])
        await onSubscribed()
        let batcher = SampleBatcher(batchSize: batchSize)
        // Samples are decoded on the reading task; registrations, heartbeats and results (rare, and they
        // wait for a store transaction) go to their own task so they never hold up samples.
        let (control, controlContinuation) = AsyncStream<(PubSubMessage, Topics.Kind, String?)>.makeStream()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.write(batcher) }
            group.addTask {
                for await (message, kind, topicID) in control {
                    await self.handle(message, kind: kind, topicID: topicID, batcher: batcher)
                }
            }
            group.addTask {
                for await event in events.cancelOnGracefulShutdown() {
                    if case .connected = event { await self.delivery.sayHello(reason: "connected", force: true) }
                }
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
        control: AsyncStream<(PubSubMessage, Topics.Kind, String?)>.Continuation
    ) async {
        for await message in stream {
            guard let (kind, topicID) = topics.parse(message.topic) else {
                metrics.messageDropped(reason: DropReason.unexpectedTopic.rawValue)
                continue
            }
            switch kind {
            case .propletTaskMetrics, .propletMetrics:
                await handle(message, kind: kind, topicID: topicID, batcher: batcher)
            default:
                control.yield((message, kind, topicID))
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
        case .managerAck: "ack"
        case .managerHello: "hello"
        case .metricsProplet: "metrics_proplet"
        }
    }

    /// Decodes one message, checks that a per-proplet topic and its payload name the same proplet, and
    /// applies it (samples go to the batcher, checked when their batch is written). `kind` and
    /// `topicID` (the proplet id a per-proplet topic names) are the topic's, parsed once by the reader.
    func handle(_ message: PubSubMessage, kind: Topics.Kind, topicID: String?, batcher: SampleBatcher) async {
        metrics.messageReceived(kind: Self.label(of: kind))
        do throws(ContractError) {
            switch kind {
            case .propletTaskMetrics:
                batcher.append(try WireCoding.decode(TaskSample.self, from: message.payload))
            case .propletMetrics:
                batcher.append(try WireCoding.decode(PropletSample.self, from: message.payload))
            case .propletCreate:
                let registration = try WireCoding.decode(PropletRegistration.self, from: message.payload)
                guard confirm(registration.propletID, topicID, message) else { return }
                await apply(message) { () throws(ManagerError) in
                    try await registry.register(registration)
                    if let cursor = registration.delivery {
                        try await delivery.reconcile(propletID: registration.propletID, cursor: cursor)
                    }
                }
            case .propletAlive:
                let heartbeat = try WireCoding.decode(PropletHeartbeat.self, from: message.payload)
                guard confirm(heartbeat.propletID, topicID, message) else { return }
                await apply(message) { () throws(ManagerError) in try await applyHeartbeat(heartbeat) }
            case .propletResults:
                let result = try WireCoding.decode(TaskResult.self, from: message.payload)
                guard confirm(result.propletID, topicID, message) else { return }
                await apply(message) { () throws(ManagerError) in try await applyResult(result) }
            case .managerStart, .managerStop, .managerAck, .managerHello, .metricsProplet:
                metrics.messageDropped(reason: DropReason.unexpectedTopic.rawValue)
            }
        } catch {
            metrics.messageDropped(reason: DropReason.undecodable.rawValue)
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

    /// Whether the payload's `proplet_id` is the one in the topic; counts and logs a mismatch.
    private func confirm(_ payloadID: String, _ topicID: String?, _ message: PubSubMessage) -> Bool {
        guard payloadID == topicID else {
            metrics.messageDropped(reason: DropReason.identityMismatch.rawValue)
            logger.warning(
                "message dropped: proplet_id differs from the topic's",
                metadata: ["topic": "\(message.topic)", "proplet.id": "\(payloadID)"]
            )
            return false
        }
        return true
    }

    /// A heartbeat or last will; a heartbeat from a proplet that never registered asks for a hello, and
    /// a registered one's `task_ids` reconcile its tasks and its cursor the delivery ledger.
    private func applyHeartbeat(_ heartbeat: PropletHeartbeat) async throws(ManagerError) {
        let registered = try await registry.heartbeat(heartbeat)
        guard heartbeat.status == .alive else { return }
        guard registered else {
            await delivery.sayHello(reason: "heartbeat from an unregistered proplet")
            return
        }
        if let taskIDs = heartbeat.taskIDs {
            try await tasks.reconcile(propletID: heartbeat.propletID, taskIDs: taskIDs)
        }
        if let cursor = heartbeat.delivery {
            try await delivery.reconcile(propletID: heartbeat.propletID, cursor: cursor)
        }
    }

    /// Applies a result once per (`proplet_id`, `seq`) when the rules accept it, then acknowledges it.
    private func applyResult(_ result: TaskResult) async throws(ManagerError) {
        if let seq = result.seq {
            let seen = try await storeCall("read delivery ledger", logger: logger) {
                try await store.committedSeqs(propletID: result.propletID, among: [seq])
            }
            if !seen.isEmpty {
                metrics.messageDropped(reason: DropReason.duplicate.rawValue)
                await delivery.acknowledge(propletID: result.propletID)
                return
            }
        }
        let task = try await storeCall("read task", logger: logger) { try await store.task(id: result.taskID) }
        if let reason = rules.check(result, task: task) {
            metrics.messageDropped(reason: reason.rawValue)
            logger.warning(
                "results dropped",
                metadata: [
                    "task.id": "\(result.taskID)", "proplet.id": "\(result.propletID)", "reason": "\(reason.rawValue)",
                ]
            )
        } else {
            let proplet = try await storeCall("read proplet", logger: logger) {
                try await store.proplet(id: result.propletID)
            }
            var accepted = result
            if let final = result.finalMetrics,
                !rules.acceptsFinalMetrics(final, proplet: proplet, now: tasks.time.now())
            {
                metrics.messageDropped(reason: DropReason.outOfRange.rawValue)
                accepted.finalMetrics = nil
            }
            if case .applied = try await tasks.apply(accepted) { notifyFeed(of: accepted) }
        }
        if let seq = result.seq { try await delivery.commit([result.propletID: [seq]]) }
    }

    private func apply(_ message: PubSubMessage, _ body: () async throws(ManagerError) -> Void) async {
        do {
            try await body()
        } catch {
            metrics.messageDropped(reason: DropReason.storeError.rawValue)
            logger.error("message not applied", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }
}
