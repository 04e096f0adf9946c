import Foundation
import PropellerCore

/// A page request: `offset` ≥ 0, `limit` 1…1000.
public struct Page: Sendable, Hashable {
    public var offset: Int
    public var limit: Int

    public init(offset: Int = 0, limit: Int = 100) {
        self.offset = offset
        self.limit = limit
    }
}

/// A time range; either end may be open. Both ends are inclusive.
public struct TimeRange: Sendable, Hashable {
    public var from: Timestamp?
    public var to: Timestamp?

    public init(from: Timestamp? = nil, to: Timestamp? = nil) {
        self.from = from
        self.to = to
    }

    /// The whole time line.
    public static let all = TimeRange()
}

/// Sort order of samples by timestamp.
public enum SampleOrder: String, Sendable, Hashable {
    case ascending = "asc"
    case descending = "desc"
}

/// One page of items plus the total count that matched.
public struct PageResult<Item: Sendable>: Sendable {
    public var items: [Item]
    public var total: Int

    public init(items: [Item], total: Int) {
        self.items = items
        self.total = total
    }
}

/// Retention bounds for stored samples.
public struct RetentionPolicy: Sendable, Hashable {
    /// Most samples kept per task (and per proplet); the oldest are dropped first. Default 100,000.
    public var maxSamplesPerSeries: Int
    /// Samples older than this many seconds are dropped. Default 7 days; nil keeps them forever.
    public var maxAgeSeconds: Int?

    public init(maxSamplesPerSeries: Int = 100_000, maxAgeSeconds: Int? = 7 * 24 * 3600) {
        self.maxSamplesPerSeries = maxSamplesPerSeries
        self.maxAgeSeconds = maxAgeSeconds
    }
}

/// The manager's system of record: tasks, proplets and metric samples.
///
/// **Every invariant is one store operation.** The operations are domain operations, not CRUD: each
/// reads, checks and writes in one atomic step — one write transaction in SQL (`SQLiteStore`; a
/// PostgreSQL store does the same with row locks or conditional `UPDATE … RETURNING`), one actor call in
/// `InMemoryStore` — so two concurrent API calls, a result and a liveness sweep never interleave between
/// a check and its write, and two manager processes on one database stay consistent without any lock in
/// the process. The operations report what happened as a value (`TaskStart`, `ResultApplication`, …);
/// they throw only for a database failure (`StoreError.database`) or a duplicate new id
/// (`StoreError.conflict`).
///
/// Times are passed in (`at now:`), never read by the store, so tests run on a manual time source and
/// every process of a deployment uses its own clock for `last_seen`, `started_at` and the like.
///
/// Two implementations pass one shared test suite: `SQLiteStore` (GRDB, durable, the default) and
/// `InMemoryStore` (tests and throwaway runs). Aggregates are computed by the store over **all** stored
/// samples of a series in the requested range.
public protocol Store: DeliveryStore, PropletStateStore {
    // MARK: Tasks

    /// Stores a new task as given (the task service creates it `pending`) and, for an uploaded module,
    /// its bytes under `task.module.digest` — once per digest: a module already stored is not written
    /// again. Throws `StoreError.conflict` when the id exists.
    func createTask(_ task: WasmTask, moduleBytes: Data?) async throws
    /// The bytes of a stored module (`sha256:…` digest), or nil when no task holds it.
    func moduleBytes(digest: String) async throws -> Data?
    /// How many distinct modules are stored (one per digest).
    func moduleCount() async throws -> Int
    func task(id: String) async throws -> WasmTask?
    /// The tasks of `ids` that exist, by id, read at once (one statement, one snapshot): the ingestion
    /// checks a batch's samples against their tasks with one read instead of one per task.
    func tasks(ids: Set<String>) async throws -> [String: WasmTask]
    /// Tasks ordered by creation time (oldest first, then id), optionally filtered by state.
    func tasks(state: TaskState?, page: Page) async throws -> PageResult<WasmTask>

    /// Compare-and-set of a task's state to `running` on a proplet, atomically: the task must exist and
    /// not be running, and the proplet must exist and be alive. Of concurrent starts of one task exactly
    /// one gets `.started`; the others see `.alreadyRunning`. On success the task is `running` on the
    /// proplet, `started_at = updated_at = now`, and results, error, exit code and `finished_at` are
    /// cleared.
    func startTask(id: String, propletID: String, at now: Timestamp) async throws -> TaskStart

    /// Undoes a start whose command could not be published: puts `previous` back, but only while the
    /// stored task is still exactly as that start left it (running on the same proplet, same
    /// `started_at` and `updated_at`). Returns false — and changes nothing — when anything touched the
    /// task since (a result, a liveness sweep, a delete).
    func undoStart(_ started: WasmTask, restoring previous: WasmTask) async throws -> Bool

    /// Applies a proplet's result — state, results, error, exit code, times — and stores its final
    /// sample, atomically, only when the task is assigned to that proplet and has not finished there:
    /// state `running` (or `failed` with `proplet lost`, when the proplet comes back with the truth)
    /// and `proplet_id == result.propletID`. Anything else changes nothing, so a result applies once.
    /// `finished_at` is the result's, or `now` when it has none; `updated_at` is `now`.
    func applyResult(_ result: TaskResult, at now: Timestamp) async throws -> ResultApplication

    /// Deletes a task and its samples unless it is running, and its module when no other task holds it.
    func deleteTask(id: String) async throws -> TaskDeletion

    // MARK: Proplets

    /// A registration: the proplet is alive, seen `now`, with the registration's name and metadata
    /// (inserted when unknown; `running_tasks` is kept, 0 for a new one).
    func registerProplet(_ registration: PropletRegistration, at now: Timestamp) async throws -> PropletUpdate

    /// A heartbeat: the proplet is alive, seen `now`, running `runningTasks` tasks (inserted with its id
    /// as name when unknown; name and metadata are kept otherwise).
    func recordHeartbeat(propletID: String, runningTasks: Int, at now: Timestamp) async throws -> PropletUpdate

    /// Marks a proplet not alive (`running_tasks` 0) and fails each of its running tasks with
    /// `proplet lost` (`finished_at = updated_at = now`), atomically. Nil when the proplet is unknown.
    func markPropletLost(id: String, at now: Timestamp) async throws -> PropletLoss?

    /// `markPropletLost` for every proplet last seen before `deadline` that is alive or still has
    /// running tasks (a proplet marked offline by its last will keeps its tasks until then), in one
    /// atomic step (a proplet whose heartbeat is recorded first — by any manager — is left alone).
    /// Ordered by id.
    func markSilentPropletsLost(seenBefore deadline: Timestamp, at now: Timestamp) async throws -> [PropletLoss]

    func proplet(id: String) async throws -> Proplet?
    /// Proplets ordered by id (compared as UTF-8 bytes).
    func proplets(page: Page) async throws -> PageResult<Proplet>
    /// Every alive proplet, ordered by id: the scheduler's candidates.
    func liveProplets() async throws -> [Proplet]

    /// Deletes a proplet and its proplet-level samples (its tasks and their samples stay), unless a task
    /// is running on it or it is alive and reports running tasks.
    func deleteProplet(id: String) async throws -> PropletDeletion

    // MARK: Samples

    /// Stores task samples in one transaction; a sample whose (task_id, timestamp) is already stored is
    /// ignored. Returns how many were newly stored.
    @discardableResult
    func insertTaskSamples(_ samples: [TaskSample]) async throws -> Int
    func taskSamples(
        taskID: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page
    ) async throws -> PageResult<TaskSample>
    /// avg/max cpu and memory, p50/p95 cpu, p95 memory, disk totals (last − first cumulative value) and
    /// the count, over every stored sample of the task in the range; nil when there is none
    /// (`SampleStatistics` defines each figure).
    func taskAggregate(taskID: String, range: TimeRange) async throws -> AggregatedMetrics?
    /// What `GET /tasks/{id}/metrics` answers: a page of the task's samples in the range and the aggregate
    /// over all of them (`taskSamples` and `taskAggregate`). The default makes those two calls; a store
    /// may answer both from one statement (PostgreSQL: one round trip, one snapshot).
    func taskMetrics(
        taskID: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page
    ) async throws -> (samples: PageResult<TaskSample>, aggregate: AggregatedMetrics?)

    @discardableResult
    func insertPropletSamples(_ samples: [PropletSample]) async throws -> Int
    func propletSamples(
        propletID: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page
    ) async throws -> PageResult<PropletSample>

    /// Applies the retention policy (per-series cap and maximum age). Returns samples removed.
    @discardableResult
    func applyRetention(_ policy: RetentionPolicy, now: Timestamp) async throws -> Int
}

extension Store {
    public func taskMetrics(
        taskID: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page
    ) async throws -> (samples: PageResult<TaskSample>, aggregate: AggregatedMetrics?) {
        let samples = try await taskSamples(taskID: taskID, range: range, order: order, page: page)
        return (samples, try await taskAggregate(taskID: taskID, range: range))
    }

    /// Stores a new task without module bytes (tasks whose module is an `image_url`, or fixtures).
    public func createTask(_ task: WasmTask) async throws {
        try await createTask(task, moduleBytes: nil)
    }
}

// MARK: Outcomes of the domain operations

/// What `Store.startTask` did.
public enum TaskStart: Sendable, Hashable {
    /// The task is now running on the proplet; `previous` is the task as it was (for `undoStart`).
    case started(WasmTask, previous: WasmTask)
    case taskNotFound
    /// Another start won, or the task was running already: nothing changed.
    case alreadyRunning(WasmTask)
    case propletNotFound
    case propletNotAlive(Proplet)
}

/// What `Store.applyResult` did.
public enum ResultApplication: Sendable, Hashable {
    /// The task took the result; `storedSamples` is 1 when its final sample was newly stored.
    case applied(WasmTask, storedSamples: Int)
    case unknownTask
    /// The task is assigned to another proplet (or to none): nothing changed.
    case notAssigned(WasmTask)
    /// The task already finished on that proplet (a repeated result): nothing changed.
    case alreadyFinished(WasmTask)
}

/// What `Store.deleteTask` did.
public enum TaskDeletion: Sendable, Hashable {
    case deleted
    case notFound
    /// The task runs: nothing changed.
    case running(WasmTask)
}

/// What `Store.deleteProplet` did.
public enum PropletDeletion: Sendable, Hashable {
    case deleted
    case notFound
    /// Tasks run on the proplet (the larger of the stored running tasks and the proplet's own count).
    case busy(runningTasks: Int)
}

/// A proplet after a registration or heartbeat, and whether it was alive before.
public struct PropletUpdate: Sendable, Hashable {
    public var proplet: Proplet
    public var wasAlive: Bool

    public init(proplet: Proplet, wasAlive: Bool) {
        self.proplet = proplet
        self.wasAlive = wasAlive
    }
}

/// A proplet marked lost: as stored now, whether it was alive before, and the tasks failed with it.
public struct PropletLoss: Sendable, Hashable {
    public var proplet: Proplet
    public var wasAlive: Bool
    public var failedTasks: [WasmTask]

    public init(proplet: Proplet, wasAlive: Bool, failedTasks: [WasmTask]) {
        self.proplet = proplet
        self.wasAlive = wasAlive
        self.failedTasks = failedTasks
    }
}

extension WasmTask {
    /// The error of tasks whose proplet stopped sending heartbeats or went offline.
    public static let propletLostError = "proplet lost"

    /// This task started on a proplet at `now` (the change `Store.startTask` makes).
    public func started(on propletID: String, at now: Timestamp) -> WasmTask {
        var task = self
        task.state = .running
        task.propletID = propletID
        task.results = nil
        task.error = nil
        task.exitCode = nil
        task.startedAt = now
        task.finishedAt = nil
        task.updatedAt = now
        return task
    }

    /// This task with a proplet's result applied at `now` (the change `Store.applyResult` makes).
    public func finished(with result: TaskResult, at now: Timestamp) -> WasmTask {
        var task = self
        task.state = result.state
        task.propletID = result.propletID
        task.results = result.results
        task.error = result.error
        task.exitCode = result.exitCode
        task.startedAt = result.startedAt ?? startedAt
        task.finishedAt = result.finishedAt ?? now
        task.updatedAt = now
        return task
    }

    /// This task failed because its proplet was lost at `now`.
    public func lost(at now: Timestamp) -> WasmTask {
        var task = self
        task.state = .failed
        task.error = Self.propletLostError
        task.finishedAt = now
        task.updatedAt = now
        return task
    }

    /// Whether a result from `propletID` may still change this task: it is assigned there and has not
    /// finished there (running, or failed as `proplet lost`).
    public func acceptsResult(from propletID: String) -> Bool {
        guard self.propletID == propletID else { return false }
        return state == .running || failedByManager
    }
}

extension TaskResult {
    /// The final sample the result carries, as a stored task sample.
    public var finalSample: TaskSample? {
        finalMetrics.map { final in
            TaskSample(
                taskID: taskID,
                propletID: propletID,
                metrics: final.metrics,
                aggregated: final.aggregated,
                timestamp: final.timestamp
            )
        }
    }
}

/// Errors of the stores.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(kind: String, id: String)
    case conflict(kind: String, id: String)
    /// The database failed (disk full, corrupt file…): an operator problem, never the client's.
    case database(String)
    /// The database cannot be reached right now (a PostgreSQL restart, a network cut): the request may
    /// be repeated later (HTTP 503).
    case unavailable(String)

    public var description: String {
        switch self {
        case .notFound(let kind, let id): "\(kind) \(id) not found"
        case .conflict(let kind, let id): "\(kind) \(id) already exists"
        case .database(let reason): "database error: \(reason)"
        case .unavailable(let reason): "database unavailable: \(reason)"
        }
    }
}
