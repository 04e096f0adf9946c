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

/// A proplet-level sample as stored (the proplet process plus host figures).
public typealias StoredPropletSample = PropletSample

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
/// Two implementations pass one shared test suite: `SQLiteStore` (GRDB, durable, the default) and
/// `InMemoryStore` (tests and throwaway runs). Aggregates are computed by the store over **all** stored
/// samples of a series in the requested range.
public protocol Store: DeliveryStore {
    // MARK: Tasks
    /// Inserts a new task. Throws `StoreError.conflict` when the id exists.
    func insertTask(_ task: WasmTask) async throws
    /// Replaces a stored task (matched by id). Throws `StoreError.notFound` when unknown.
    func updateTask(_ task: WasmTask) async throws
    func task(id: String) async throws -> WasmTask?
    /// Tasks ordered by creation time (oldest first), optionally filtered by state.
    func tasks(state: TaskState?, page: Page) async throws -> PageResult<WasmTask>
    /// Deletes a task and its samples. Returns false when it did not exist.
    func deleteTask(id: String) async throws -> Bool
    /// Running tasks assigned to a proplet.
    func runningTasks(propletID: String) async throws -> [WasmTask]

    // MARK: Proplets
    /// Inserts or replaces a proplet (matched by id).
    func upsertProplet(_ proplet: Proplet) async throws
    func proplet(id: String) async throws -> Proplet?
    /// Proplets ordered by id.
    func proplets(page: Page) async throws -> PageResult<Proplet>
    func deleteProplet(id: String) async throws -> Bool

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
    /// the count, over every stored sample of the task in the range; nil when there is none.
    func taskAggregate(taskID: String, range: TimeRange) async throws -> AggregatedMetrics?

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

/// Errors of the stores.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(kind: String, id: String)
    case conflict(kind: String, id: String)
    /// The database failed (disk full, corrupt file…): an operator problem, never the client's.
    case database(String)

    public var description: String {
        switch self {
        case .notFound(let kind, let id): "\(kind) \(id) not found"
        case .conflict(let kind, let id): "\(kind) \(id) already exists"
        case .database(let reason): "database error: \(reason)"
        }
    }
}
