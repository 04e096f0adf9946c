import PropellerCore

/// A `Store` in memory, with exactly the semantics of `SQLiteStore` (both pass one test suite):
/// for tests and throwaway runs (`MANAGER_STORAGE=memory`). Nothing survives the process.
///
/// Samples are kept per series sorted by timestamp, so ranges are binary searches; aggregates use
/// `SampleStatistics`, the same definitions the SQL follows.
public actor InMemoryStore: Store {
    private var tasksByID: [String: WasmTask] = [:]
    private var propletsByID: [String: Proplet] = [:]
    private var taskSeries: [String: SampleSeries<TaskSample>] = [:]
    private var propletSeries: [String: SampleSeries<PropletSample>] = [:]
    /// Delivery ledgers by proplet id (`DeliveryStore`).
    var ledgers: [String: Ledger] = [:]

    /// An empty store.
    public init() {}

    // MARK: Tasks

    public func insertTask(_ task: WasmTask) throws {
        guard tasksByID[task.id] == nil else { throw StoreError.conflict(kind: "task", id: task.id) }
        tasksByID[task.id] = task
    }

    public func updateTask(_ task: WasmTask) throws {
        guard tasksByID[task.id] != nil else { throw StoreError.notFound(kind: "task", id: task.id) }
        tasksByID[task.id] = task
    }

    public func task(id: String) -> WasmTask? {
        tasksByID[id]
    }

    public func tasks(state: TaskState?, page: Page) -> PageResult<WasmTask> {
        let matching = tasksByID.values.filter { state == nil || $0.state == state }.sorted(by: Self.creationOrder)
        return Self.page(of: matching, page)
    }

    public func deleteTask(id: String) -> Bool {
        taskSeries[id] = nil
        return tasksByID.removeValue(forKey: id) != nil
    }

    public func runningTasks(propletID: String) -> [WasmTask] {
        tasksByID.values.filter { $0.state == .running && $0.propletID == propletID }.sorted(by: Self.creationOrder)
    }

    // MARK: Proplets

    public func upsertProplet(_ proplet: Proplet) {
        propletsByID[proplet.id] = proplet
    }

    public func proplet(id: String) -> Proplet? {
        propletsByID[id]
    }

    public func proplets(page: Page) -> PageResult<Proplet> {
        let sorted = propletsByID.values.sorted { Self.bytewise($0.id, $1.id) }
        return Self.page(of: sorted, page)
    }

    /// Deletes the proplet and its proplet-level samples (its tasks and their samples stay).
    public func deleteProplet(id: String) -> Bool {
        propletSeries[id] = nil
        return propletsByID.removeValue(forKey: id) != nil
    }

    // MARK: Samples

    @discardableResult
    public func insertTaskSamples(_ samples: [TaskSample]) -> Int {
        var inserted = 0
        for sample in samples {
            if taskSeries[sample.taskID, default: SampleSeries()].insert(sample) { inserted += 1 }
        }
        return inserted
    }

    public func taskSamples(
        taskID: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page
    ) -> PageResult<TaskSample> {
        (taskSeries[taskID] ?? SampleSeries()).page(range, order: order, page: page)
    }

    public func taskAggregate(taskID: String, range: TimeRange) -> AggregatedMetrics? {
        guard let series = taskSeries[taskID] else { return nil }
        return SampleStatistics.aggregate(series.slice(range))
    }

    @discardableResult
    public func insertPropletSamples(_ samples: [PropletSample]) -> Int {
        var inserted = 0
        for sample in samples {
            if propletSeries[sample.propletID, default: SampleSeries()].insert(sample) { inserted += 1 }
        }
        return inserted
    }

    public func propletSamples(
        propletID: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page
    ) -> PageResult<PropletSample> {
        (propletSeries[propletID] ?? SampleSeries()).page(range, order: order, page: page)
    }

    @discardableResult
    public func applyRetention(_ policy: RetentionPolicy, now: Timestamp) -> Int {
        let cap = max(policy.maxSamplesPerSeries, 0)
        let cutoff = RetentionCutoff.microseconds(now: now, maxAgeSeconds: policy.maxAgeSeconds)
        var removed = 0
        for id in Array(taskSeries.keys) {
            removed += taskSeries[id]!.trim(cap: cap, olderThan: cutoff)
            if taskSeries[id]!.isEmpty { taskSeries[id] = nil }
        }
        for id in Array(propletSeries.keys) {
            removed += propletSeries[id]!.trim(cap: cap, olderThan: cutoff)
            if propletSeries[id]!.isEmpty { propletSeries[id] = nil }
        }
        return removed
    }

    // MARK: Ordering and paging (as the SQL: creation time then id; ids compared as UTF-8 bytes)

    private static func creationOrder(_ lhs: WasmTask, _ rhs: WasmTask) -> Bool {
        lhs.createdAt != rhs.createdAt ? lhs.createdAt < rhs.createdAt : bytewise(lhs.id, rhs.id)
    }

    private static func bytewise(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    private static func page<Item>(of items: [Item], _ page: Page) -> PageResult<Item> {
        let (limit, offset) = (min(max(page.limit, 0), 1000), max(page.offset, 0))
        guard offset < items.count else { return PageResult(items: [], total: items.count) }
        return PageResult(items: Array(items[offset..<min(offset + limit, items.count)]), total: items.count)
    }
}
