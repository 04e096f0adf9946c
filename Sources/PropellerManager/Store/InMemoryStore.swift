import Foundation
import PropellerCore
import PropellerMonitoring

/// A `Store` in memory, with exactly the semantics of `SQLiteStore` (both pass one test suite):
/// for tests and throwaway runs (`MANAGER_STORAGE=memory`). Nothing survives the process.
///
/// Samples are kept per series sorted by timestamp, so ranges are binary searches; aggregates use
/// `SampleStatistics`, the same definitions the SQL follows.
public actor InMemoryStore: Store {
    var tasksByID: [String: WasmTask] = [:]
    var propletsByID: [String: Proplet] = [:]
    private var taskSeries: [String: SampleSeries<TaskSample>] = [:]
    var propletSeries: [String: SampleSeries<PropletSample>] = [:]
    /// Delivery ledgers by proplet id (`DeliveryStore`).
    var ledgers: [String: Ledger] = [:]
    private var modulesByDigest: [String: Data] = [:]

    /// An empty store.
    public init() {}

    // MARK: Tasks (each operation is one actor call: atomic by isolation)

    public func createTask(_ task: WasmTask, moduleBytes: Data?) throws {
        guard tasksByID[task.id] == nil else { throw StoreError.conflict(kind: "task", id: task.id) }
        tasksByID[task.id] = task
        if let moduleBytes, let digest = task.module?.digest, modulesByDigest[digest] == nil {
            modulesByDigest[digest] = moduleBytes
        }
    }

    public func moduleBytes(digest: String) -> Data? {
        modulesByDigest[digest]
    }

    public func moduleCount() -> Int {
        modulesByDigest.count
    }

    public func task(id: String) -> WasmTask? {
        tasksByID[id]
    }

    public func tasks(ids: Set<String>) -> [String: WasmTask] {
        tasksByID.filter { ids.contains($0.key) }
    }

    public func tasks(state: TaskState?, page: Page) -> PageResult<WasmTask> {
        let matching = tasksByID.values.filter { state == nil || $0.state == state }.sorted(by: Self.creationOrder)
        return Self.page(of: matching, page)
    }

    public func startTask(id: String, propletID: String, at now: Timestamp) -> TaskStart {
        guard let task = tasksByID[id] else { return .taskNotFound }
        guard task.state != .running else { return .alreadyRunning(task) }
        guard let proplet = propletsByID[propletID] else { return .propletNotFound }
        guard proplet.alive else { return .propletNotAlive(proplet) }
        let started = task.started(on: propletID, at: now)
        tasksByID[id] = started
        return .started(started, previous: task)
    }

    public func undoStart(_ started: WasmTask, restoring previous: WasmTask) -> Bool {
        guard let stored = tasksByID[started.id], stored.state == .running, stored.propletID == started.propletID,
            stored.startedAt == started.startedAt, stored.updatedAt == started.updatedAt
        else { return false }
        tasksByID[started.id] = previous
        return true
    }

    public func applyResult(_ result: TaskResult, at now: Timestamp) -> ResultApplication {
        guard let task = tasksByID[result.taskID] else { return .unknownTask }
        guard task.propletID == result.propletID else { return .notAssigned(task) }
        guard task.acceptsResult(from: result.propletID) else { return .alreadyFinished(task) }
        let finished = task.finished(with: result, at: now)
        tasksByID[task.id] = finished
        let stored = result.finalSample.map { insertTaskSamples([$0]) } ?? 0
        return .applied(finished, storedSamples: stored)
    }

    public func deleteTask(id: String) -> TaskDeletion {
        guard let task = tasksByID[id] else { return .notFound }
        guard task.state != .running else { return .running(task) }
        taskSeries[id] = nil
        tasksByID[id] = nil
        if let digest = task.module?.digest, !tasksByID.values.contains(where: { $0.module?.digest == digest }) {
            modulesByDigest[digest] = nil
        }
        return .deleted
    }

    // MARK: Proplets

    public func registerProplet(_ registration: PropletRegistration, at now: Timestamp) -> PropletUpdate {
        let existing = propletsByID[registration.propletID]
        let proplet = Proplet(
            id: registration.propletID,
            name: registration.name,
            alive: true,
            lastSeen: now,
            runningTasks: existing?.runningTasks ?? 0,
            metadata: registration.metadata
        )
        propletsByID[proplet.id] = proplet
        return PropletUpdate(proplet: proplet, wasAlive: existing?.alive == true)
    }

    public func recordHeartbeat(propletID: String, runningTasks: Int, at now: Timestamp) -> PropletUpdate {
        let existing = propletsByID[propletID]
        let proplet = Proplet(
            id: propletID,
            name: existing?.name ?? propletID,
            alive: true,
            lastSeen: now,
            runningTasks: runningTasks,
            metadata: existing?.metadata
        )
        propletsByID[propletID] = proplet
        return PropletUpdate(proplet: proplet, wasAlive: existing?.alive == true)
    }

    public func markPropletLost(id: String, at now: Timestamp) -> PropletLoss? {
        guard let proplet = propletsByID[id] else { return nil }
        return markLost(proplet, at: now)
    }

    public func markSilentPropletsLost(seenBefore deadline: Timestamp, at now: Timestamp) -> [PropletLoss] {
        propletsByID.values
            .filter { ($0.alive || !runningTasks(propletID: $0.id).isEmpty) && $0.lastSeen < deadline }
            .sorted { Self.bytewise($0.id, $1.id) }
            .map { markLost($0, at: now) }
    }

    public func proplet(id: String) -> Proplet? {
        propletsByID[id]
    }

    public func proplets(page: Page) -> PageResult<Proplet> {
        let sorted = propletsByID.values.sorted { Self.bytewise($0.id, $1.id) }
        return Self.page(of: sorted, page)
    }

    public func liveProplets() -> [Proplet] {
        propletsByID.values.filter(\.alive).sorted { Self.bytewise($0.id, $1.id) }
    }

    public func deleteProplet(id: String) -> PropletDeletion {
        guard let proplet = propletsByID[id] else { return .notFound }
        let running = runningTasks(propletID: id).count
        guard running == 0, !proplet.alive || proplet.runningTasks == 0 else {
            return .busy(runningTasks: max(running, proplet.runningTasks))
        }
        propletSeries[id] = nil
        propletsByID[id] = nil
        ledgers[id] = nil
        return .deleted
    }

    func runningTasks(propletID: String) -> [WasmTask] {
        tasksByID.values.filter { $0.state == .running && $0.propletID == propletID }.sorted(by: Self.creationOrder)
    }

    private func markLost(_ proplet: Proplet, at now: Timestamp) -> PropletLoss {
        var lost = proplet
        lost.alive = false
        lost.runningTasks = 0
        propletsByID[proplet.id] = lost
        let failed = runningTasks(propletID: proplet.id).map { $0.lost(at: now) }
        for task in failed { tasksByID[task.id] = task }
        return PropletLoss(proplet: lost, wasAlive: proplet.alive, failedTasks: failed)
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

    static func bytewise(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    private static func page<Item>(of items: [Item], _ page: Page) -> PageResult<Item> {
        let (limit, offset) = (min(max(page.limit, 0), 1000), max(page.offset, 0))
        guard offset < items.count else { return PageResult(items: [], total: items.count) }
        return PageResult(items: Array(items[offset..<min(offset + limit, items.count)]), total: items.count)
    }
}
