import Foundation
import Logging
import PropellerCore
import PropellerMQTT
import Synchronization

/// The task operations of the API — create, read, list, start, stop, delete, samples — and the
/// results proplets send. It publishes the start and stop commands; the scheduler chooses proplets.
///
/// Every check-and-change is one store operation (`Store`), so concurrent calls — in this process or
/// in another manager on the same database — cannot interleave between a check and its write.
///
/// Stop: `POST /tasks/{id}/stop` publishes the stop command and returns the task still `running`;
/// the state becomes `stopped` when the proplet's results arrive (or `failed` with `proplet lost` if
/// the proplet disappears first).
public final class TaskService: Sendable {
    let store: any Store
    let scheduler: Scheduler
    let pubsub: any PubSub
    let topics: Topics
    let metrics: ManagerMetrics
    let time: any TimeSource
    let logger: Logger
    /// The `task_ids` of each proplet's last heartbeat here (which processes still run where).
    let reportedTasks = Mutex<[String: Set<String>]>([:])
    /// Tasks whose stop was asked for while they were recorded as finished (bounded; cleared when full).
    let stopRequested = Mutex<Set<String>>([])

    /// Error of tasks whose proplet stopped sending heartbeats or went offline.
    public static let propletLostError = WasmTask.propletLostError

    /// A service over `store`, publishing on `pubsub` under `topics`.
    public init(
        store: any Store,
        scheduler: Scheduler,
        pubsub: any PubSub,
        topics: Topics,
        metrics: ManagerMetrics,
        time: any TimeSource,
        logger: Logger
    ) {
        self.store = store
        self.scheduler = scheduler
        self.pubsub = pubsub
        self.topics = topics
        self.metrics = metrics
        self.time = time
        self.logger = logger
    }

    // MARK: API operations

    /// Stores a new `pending` task with a server-generated lowercase UUID.
    public func create(_ request: TaskRequest) async throws(ManagerError) -> WasmTask {
        let now = time.now()
        // TaskRequest accepted only valid base64; the bytes are stored once per digest, apart from the task.
        let bytes = request.file.flatMap { Data(base64Encoded: $0) }
        var module = request.imageURL.map(TaskModule.image)
        if let bytes { module = .file(digest: ModuleDigest.of(bytes), sizeBytes: bytes.count) }
        var task = WasmTask(
            id: UUID().uuidString.lowercased(),
            name: request.name,
            module: module,
            imageURL: request.imageURL,
            inputs: request.inputs,
            env: request.env,
            cliArgs: request.cliArgs,
            daemon: request.daemon,
            monitoringProfile: request.monitoringProfile,
            createdAt: now,
            updatedAt: now
        )
        task.limits = request.limits
        task.labels = request.labels
        try await call("create task") { try await self.store.createTask(task, moduleBytes: bytes) }
        logger.info("task created", metadata: ["task.id": "\(task.id)", "task.name": "\(task.name)"])
        return task
    }

    /// A stored task, or `notFound`.
    public func task(id: String) async throws(ManagerError) -> WasmTask {
        guard TaskID.isValid(id), let task = try await call("read task", { try await self.store.task(id: id) })
        else { throw .notFound("task \(id) not found") }
        return task
    }

    /// The bytes of a task's uploaded module (`GET /tasks/{id}/module`); `notFound` for an unknown task
    /// and for an `image_url` task, whose module the manager never holds.
    public func module(id: String) async throws(ManagerError) -> Data {
        let task = try await task(id: id)
        guard let digest = task.module?.digest else {
            throw .notFound(
                "task \(id) has no uploaded module: its proplet fetches it from image_url \(task.imageURL ?? "")"
            )
        }
        guard let bytes = try await call("read module", { try await self.store.moduleBytes(digest: digest) }) else {
            throw .notFound("module \(digest) of task \(id) is not stored")
        }
        return bytes
    }

    /// A page of tasks, oldest first, optionally in one state.
    public func list(state: TaskState?, page: Page) async throws(ManagerError) -> PageResult<WasmTask> {
        try await call("list tasks") { try await self.store.tasks(state: state, page: page) }
    }

    /// A page of a task's samples in a range, and the aggregate of every sample in the range.
    public func samples(
        id: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page
    ) async throws(ManagerError) -> (task: WasmTask, samples: PageResult<TaskSample>, aggregate: AggregatedMetrics?) {
        let task = try await task(id: id)
        let (samples, aggregate) = try await call("read samples") {
            try await self.store.taskMetrics(taskID: task.id, range: range, order: order, page: page)
        }
        return (task, samples, aggregate)
    }

    /// Deletes a task and its samples; `conflict` while it runs.
    public func delete(id: String) async throws(ManagerError) {
        guard TaskID.isValid(id) else { throw .notFound("task \(id) not found") }
        switch try await call("delete task", { try await self.store.deleteTask(id: id) }) {
        case .deleted:
            metrics.taskEnded(id: id)
            logger.info("task deleted", metadata: ["task.id": "\(id)"])
        case .notFound:
            throw .notFound("task \(id) not found")
        case .running:
            throw .conflict("task \(id) is running; stop it before deleting it")
        }
    }

    /// Starts a task on a live proplet (the requested one, or the scheduler's choice) and publishes the
    /// start command with the resolved profile at QoS 1. Of concurrent starts of one task exactly one
    /// succeeds; the others are `conflict`.
    public func start(id: String, propletID requested: String?) async throws(ManagerError) -> WasmTask {
        // Unknown and running tasks are refused before a proplet is chosen (404 and 409 before 503);
        // the store's compare-and-set below is what decides.
        let current = try await task(id: id)
        guard current.state != .running else { throw Self.alreadyRunning(current) }
        // A proplet chosen round-robin may die before the start lands: choose again, a few times.
        for _ in 0..<3 {
            let proplet = try await scheduler.choose(requested: requested)
            let outcome = try await call("start task") {
                try await self.store.startTask(id: id, propletID: proplet.id, at: self.time.now())
            }
            switch outcome {
            case .started(let task, let previous):
                try await publishStart(task, previous: previous)
                metrics.taskStarted(id: task.id, name: task.name, labels: task.labels)
                logger.info("task started", metadata: ["task.id": "\(id)", "proplet.id": "\(proplet.id)"])
                return task
            case .taskNotFound:
                throw .notFound("task \(id) not found")
            case .alreadyRunning(let task):
                throw Self.alreadyRunning(task)
            case .propletNotFound where requested != nil:
                throw .notFound("proplet \(proplet.id) not found")
            case .propletNotAlive where requested != nil:
                throw .unavailable("proplet \(proplet.id) is not alive")
            case .propletNotFound, .propletNotAlive:
                continue
            }
        }
        throw .unavailable("no live proplet to run the task; start a proplet and retry")
    }

    /// Publishes the stop command to the task's proplet. The task stays `running` until the proplet's
    /// results arrive (then `stopped`). Stop also reaches a process that still runs although the task
    /// is recorded as finished (SPEC §4): its proplet listed it in its last heartbeat, or the manager
    /// itself marked it failed when the proplet went silent. `conflict` only when no process of the
    /// task can exist anywhere.
    public func stop(id: String) async throws(ManagerError) -> WasmTask {
        let task = try await task(id: id)
        guard let propletID = task.propletID,
            task.state == .running || task.failedByManager || isReported(taskID: id, propletID: propletID)
        else {
            throw .conflict("task \(id) is not running (state: \(task.state.rawValue))")
        }
        do {
            try await pubsub.publish(
                topics.topic(.managerStop, propletID: propletID),
                json: StopCommand(id: id, propletID: propletID),
                qos: .atLeastOnce
            )
        } catch {
            throw .unavailable("the MQTT broker did not accept the stop command: \(error)")
        }
        if task.state != .running {
            stopRequested.withLock { set in
                if set.count >= 10_000 { set.removeAll() }
                set.insert(id)
            }
        }
        logger.info("task stop requested", metadata: ["task.id": "\(id)", "proplet.id": "\(propletID)"])
        return task
    }

    // MARK: Results

    /// Applies a proplet's results (state, results, error, exit code, times, final sample) when the task
    /// is assigned to that proplet and has not finished there; anything else changes nothing.
    @discardableResult
    public func apply(_ result: TaskResult) async throws(ManagerError) -> ResultApplication {
        let outcome = try await call("apply result") { try await self.store.applyResult(result, at: self.time.now()) }
        if case .applied(let task, let stored) = outcome {
            metrics.samplesStored(stored, kind: "task")
            metrics.taskEnded(id: task.id)
            _ = stopRequested.withLock { $0.remove(task.id) }
            logger.info(
                "task finished",
                metadata: ["task.id": "\(task.id)", "task.state": "\(task.state.rawValue)"]
            )
        }
        return outcome
    }

    // MARK: Helpers

    private func publishStart(_ task: WasmTask, previous: WasmTask) async throws(ManagerError) {
        // The start command still carries the module itself (SPEC §2): read once per start.
        var file: String?
        do {
            file = try await moduleFile(of: task)
        } catch {
            _ = try? await store.undoStart(task, restoring: previous)
            throw error
        }
        let command = StartCommand(
            id: task.id,
            name: task.name,
            propletID: task.propletID ?? "",
            file: file,
            imageURL: task.imageURL,
            inputs: task.inputs,
            env: task.env,
            cliArgs: task.cliArgs,
            daemon: task.daemon,
            monitoringProfile: task.monitoringProfile,
            limits: task.limits
        )
        do {
            try await pubsub.publish(
                topics.topic(.managerStart, propletID: command.propletID),
                json: command,
                qos: .atLeastOnce
            )
        } catch {
            logger.error("start command not published", metadata: ["task.id": "\(task.id)", "error": "\(error)"])
            do {
                if try await !store.undoStart(task, restoring: previous) {
                    logger.warning(
                        "start not undone: the task changed meanwhile",
                        metadata: ["task.id": "\(task.id)"]
                    )
                }
            } catch {
                logger.error(
                    "start not undone: the task stays running until its proplet is lost",
                    metadata: ["task.id": "\(task.id)", "error": "\(error)"]
                )
            }
            throw .unavailable("the MQTT broker did not accept the start command: \(error)")
        }
    }

    /// The base64 text of a task's uploaded module, or nil for an `image_url` task.
    private func moduleFile(of task: WasmTask) async throws(ManagerError) -> String? {
        guard task.imageURL == nil, let digest = task.module?.digest else { return nil }
        guard let bytes = try await call("read module", { try await self.store.moduleBytes(digest: digest) }) else {
            throw .unavailable("module \(digest) of task \(task.id) is missing from the store")
        }
        return bytes.base64EncodedString()
    }

    private static func alreadyRunning(_ task: WasmTask) -> ManagerError {
        .conflict("task \(task.id) is already running on proplet \(task.propletID ?? "?")")
    }

    private func call<T>(_ operation: String, _ body: () async throws -> T) async throws(ManagerError) -> T {
        try await storeCall(operation, logger: logger, body)
    }
}
