import Foundation
import Logging
import PropellerCore
import PropellerMQTT
import Synchronization

/// Every change of a task's state: create, start (scheduling), stop, delete, results, proplet lost.
///
/// All changes run under the manager's state lock, so an API call, a result and a liveness sweep
/// never interleave between their read and their write of the same task.
///
/// Stop: `POST /tasks/{id}/stop` publishes the stop command and returns the task still `running`;
/// the state becomes `stopped` when the proplet's results arrive (or `failed` with `proplet lost` if
/// the proplet disappears first).
public final class TaskLifecycle: Sendable {
    let store: any Store
    let pubsub: any PubSub
    let topics: Topics
    let lock: AsyncLock
    let metrics: ManagerMetrics
    let time: any TimeSource
    let logger: Logger
    private let roundRobin = Mutex<Int>(0)
    /// Names of tasks known to be running, for the Prometheus task gauges.
    private let running = Mutex<[String: String]>([:])
    /// Tasks seen in samples and known not to be running (bounded; cleared when full).
    private let notRunning = Mutex<Set<String>>([])

    /// Error of tasks whose proplet stopped sending heartbeats or went offline.
    public static let propletLostError = "proplet lost"

    /// Wires the lifecycle; `lock` is the manager's one state lock.
    public init(
        store: any Store,
        pubsub: any PubSub,
        topics: Topics,
        lock: AsyncLock,
        metrics: ManagerMetrics,
        time: any TimeSource,
        logger: Logger
    ) {
        self.store = store
        self.pubsub = pubsub
        self.topics = topics
        self.lock = lock
        self.metrics = metrics
        self.time = time
        self.logger = logger
    }

    // MARK: API operations

    /// Stores a new `pending` task with a server-generated lowercase UUID.
    public func create(_ request: TaskRequest) async throws(ManagerError) -> WasmTask {
        let now = time.now()
        var task = WasmTask(
            id: UUID().uuidString.lowercased(),
            name: request.name,
            file: request.file,
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
        try await guarded("insert task") { try await self.store.insertTask(task) }
        logger.info("task created", metadata: ["task.id": "\(task.id)", "task.name": "\(task.name)"])
        return task
    }

    /// A stored task, or `notFound`.
    public func task(id: String) async throws(ManagerError) -> WasmTask {
        guard TaskID.isValid(id), let task = try await guarded("read task", { try await self.store.task(id: id) })
        else { throw .notFound("task \(id) not found") }
        return task
    }

    /// Deletes a task and its samples; `conflict` while it runs.
    public func delete(id: String) async throws(ManagerError) {
        try await locked { () throws(ManagerError) in
            let task = try await self.task(id: id)
            guard task.state != .running else {
                throw .conflict("task \(id) is running; stop it before deleting it")
            }
            _ = try await self.guarded("delete task") { try await self.store.deleteTask(id: id) }
            self.forgetRunning(id)
            self.logger.info("task deleted", metadata: ["task.id": "\(id)"])
        }
    }

    /// Picks a live proplet (the requested one, or round-robin), marks the task `running` and publishes
    /// the start command with the resolved profile at QoS 1.
    public func start(id: String, propletID requested: String?) async throws(ManagerError) -> WasmTask {
        try await locked { () throws(ManagerError) in
            var task = try await self.task(id: id)
            guard task.state != .running else {
                throw .conflict("task \(id) is already running on proplet \(task.propletID ?? "?")")
            }
            let proplet = try await self.chooseProplet(requested)
            let previous = task
            let now = self.time.now()
            task.state = .running
            task.propletID = proplet.id
            task.results = nil
            task.error = nil
            task.exitCode = nil
            task.startedAt = now
            task.finishedAt = nil
            task.updatedAt = now
            let updated = task
            try await self.guarded("update task") { try await self.store.updateTask(updated) }
            let command = StartCommand(
                id: task.id,
                name: task.name,
                propletID: proplet.id,
                file: task.file,
                imageURL: task.imageURL,
                inputs: task.inputs,
                env: task.env,
                cliArgs: task.cliArgs,
                daemon: task.daemon,
                monitoringProfile: task.monitoringProfile,
                limits: task.limits
            )
            do {
                try await self.pubsub.publish(self.topics.topic(.managerStart), json: command, qos: .atLeastOnce)
            } catch {
                self.logger.error("start command not published", metadata: ["task.id": "\(id)", "error": "\(error)"])
                try? await self.store.updateTask(previous)
                throw .unavailable("the MQTT broker did not accept the start command: \(error)")
            }
            self.markRunning(id: task.id, name: task.name)
            self.logger.info("task started", metadata: ["task.id": "\(id)", "proplet.id": "\(proplet.id)"])
            return task
        }
    }

    /// Publishes the stop command to the task's proplet. The task stays `running` until the proplet's
    /// results arrive (then `stopped`).
    public func stop(id: String) async throws(ManagerError) -> WasmTask {
        try await locked { () throws(ManagerError) in
            let task = try await self.task(id: id)
            guard task.state == .running, let propletID = task.propletID else {
                throw .conflict("task \(id) is not running (state: \(task.state.rawValue))")
            }
            do {
                try await self.pubsub.publish(
                    self.topics.topic(.managerStop),
                    json: StopCommand(id: id, propletID: propletID),
                    qos: .atLeastOnce
                )
            } catch {
                throw .unavailable("the MQTT broker did not accept the stop command: \(error)")
            }
            self.logger.info("task stop requested", metadata: ["task.id": "\(id)", "proplet.id": "\(propletID)"])
            return task
        }
    }

    // MARK: Ingestion

    /// Applies a proplet's results: state, results, error, exit code, times; stores the final sample.
    /// Returns false (and leaves the task alone) when the task is unknown or runs on another proplet.
    @discardableResult
    public func apply(_ result: TaskResult) async throws(ManagerError) -> Bool {
        try await locked { () throws(ManagerError) in
            guard let stored = try await self.guarded("read task", { try await self.store.task(id: result.taskID) }),
                stored.propletID == nil || stored.propletID == result.propletID
            else { return false }
            var task = stored
            let now = self.time.now()
            task.state = result.state
            task.propletID = result.propletID
            task.results = result.results
            task.error = result.error
            task.exitCode = result.exitCode
            task.startedAt = result.startedAt ?? task.startedAt
            task.finishedAt = result.finishedAt ?? now
            task.updatedAt = now
            let updated = task
            try await self.guarded("update task") { try await self.store.updateTask(updated) }
            if let final = result.finalMetrics {
                let sample = TaskSample(
                    taskID: result.taskID,
                    propletID: result.propletID,
                    metrics: final.metrics,
                    aggregated: final.aggregated,
                    timestamp: final.timestamp
                )
                let stored = try await self.guarded("insert final sample") {
                    try await self.store.insertTaskSamples([sample])
                }
                self.metrics.samplesStored(stored, kind: "task")
            }
            self.forgetRunning(result.taskID)
            self.logger.info(
                "task finished",
                metadata: ["task.id": "\(result.taskID)", "task.state": "\(result.state.rawValue)"]
            )
            return true
        }
    }

    /// Fails every running task of a proplet with `proplet lost`. Call under the state lock.
    func failRunningTasks(propletID: String) async throws(ManagerError) {
        let tasks = try await guarded("read running tasks") { try await self.store.runningTasks(propletID: propletID) }
        let now = time.now()
        for var task in tasks {
            task.state = .failed
            task.error = Self.propletLostError
            task.finishedAt = now
            task.updatedAt = now
            let updated = task
            try await guarded("update task") { try await self.store.updateTask(updated) }
            forgetRunning(task.id)
            logger.warning(
                "task failed: proplet lost",
                metadata: ["task.id": "\(task.id)", "proplet.id": "\(propletID)"]
            )
        }
    }

    // MARK: Running-task names for the gauges

    /// The task's name when it is running (cached; the store is asked once per unknown task).
    func runningName(taskID: String) async -> String? {
        if let name = running.withLock({ $0[taskID] }) { return name }
        if notRunning.withLock({ $0.contains(taskID) }) { return nil }
        guard let task = try? await store.task(id: taskID) else { return nil }
        if task.state == .running {
            running.withLock { $0[taskID] = task.name }
            return task.name
        }
        notRunning.withLock { set in
            if set.count >= 10_000 { set.removeAll() }
            set.insert(taskID)
        }
        return nil
    }

    /// Removes gauges of tasks that are no longer running (a late sample may have re-created them).
    func removeStaleGauges() {
        let runningIDs = running.withLock { Set($0.keys) }
        for id in metrics.taskIDsWithSeries.subtracting(runningIDs) { metrics.removeTask(id: id) }
    }

    private func markRunning(id: String, name: String) {
        running.withLock { $0[id] = name }
        _ = notRunning.withLock { $0.remove(id) }
    }

    private func forgetRunning(_ id: String) {
        _ = running.withLock { $0.removeValue(forKey: id) }
        notRunning.withLock { set in
            if set.count >= 10_000 { set.removeAll() }
            set.insert(id)
        }
        metrics.removeTask(id: id)
    }

    private func chooseProplet(_ requested: String?) async throws(ManagerError) -> Proplet {
        if let requested {
            guard let proplet = try await guarded("read proplet", { try await self.store.proplet(id: requested) })
            else {
                throw .notFound("proplet \(requested) not found")
            }
            guard proplet.alive else { throw .unavailable("proplet \(requested) is not alive") }
            return proplet
        }
        let alive = try await allProplets().filter(\.alive)
        guard !alive.isEmpty else {
            throw .unavailable("no live proplet to run the task; start a proplet and retry")
        }
        let index = roundRobin.withLock { counter in
            defer { counter &+= 1 }
            return counter
        }
        return alive[Int(UInt(bitPattern: index) % UInt(alive.count))]
    }

    /// Every stored proplet, in id order.
    func allProplets() async throws(ManagerError) -> [Proplet] {
        var all: [Proplet] = []
        var page = Page(offset: 0, limit: 1000)
        while true {
            let current = page
            let result = try await guarded("list proplets") { try await self.store.proplets(page: current) }
            all += result.items
            if result.items.count < page.limit || all.count >= result.total { return all }
            page.offset += page.limit
        }
    }

    /// Runs `body` under the state lock.
    func locked<T: Sendable>(_ body: () async throws(ManagerError) -> T) async throws(ManagerError) -> T {
        do {
            return try await lock.withLock { try await body() }
        } catch let error as ManagerError {
            throw error
        } catch {
            throw .internalFailure("\(error)")
        }
    }

    /// Runs a store call, mapping its failures: not found → 404, conflict → 409, anything else → 500
    /// (logged: the database failed, not the client).
    func guarded<T>(_ operation: String, _ body: () async throws -> T) async throws(ManagerError) -> T {
        do {
            return try await body()
        } catch StoreError.notFound(let kind, let id) {
            throw .notFound("\(kind) \(id) not found")
        } catch StoreError.conflict(let kind, let id) {
            throw .conflict("\(kind) \(id) already exists")
        } catch {
            logger.error("store failure", metadata: ["operation": "\(operation)", "error": "\(error)"])
            throw .internalFailure("\(operation) failed")
        }
    }
}
