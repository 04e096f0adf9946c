import PropellerCore
import Synchronization

/// The bookkeeping behind the task gauges: which tasks run, under which name and labels. The task service
/// reports starts and ends; ingestion hands over the newest sample per task and a way to look a task up.
extension ManagerMetrics {
    /// A task started: its gauges (and `propeller_task_info` with its `labels`) may be set from now on.
    public func taskStarted(id: String, name: String, labels: [String: String] = [:]) {
        runningTasks.markRunning(id: id, RunningTaskNames.Entry(name: name, labels: labels))
    }

    /// A task ended (finished, failed, stopped or deleted): its gauges go.
    public func taskEnded(id: String) {
        runningTasks.forget(id)
        removeTask(id: id)
    }

    /// Sets the gauges of running tasks from the newest sample of each task among `samples`.
    /// `lookup` is asked once for a task this instance has not seen start (another manager started it,
    /// or this one restarted); a task that is not running gets no gauges.
    public func updateTaskGauges(
        from samples: [TaskSample],
        lookup: (String) async -> WasmTask?
    ) async {
        var latest: [String: TaskSample] = [:]
        for sample in samples where sample.timestamp >= (latest[sample.taskID]?.timestamp ?? sample.timestamp) {
            latest[sample.taskID] = sample
        }
        for (id, sample) in latest {
            guard let entry = await runningTask(taskID: id, lookup: lookup) else { continue }
            updateTask(id: id, name: entry.name, sample: sample, labels: entry.labels)
        }
    }

    /// The task's name when it is running (cached; `lookup` is asked once per unknown task).
    func runningName(taskID: String, lookup: (String) async -> WasmTask?) async -> String? {
        await runningTask(taskID: taskID, lookup: lookup)?.name
    }

    /// The task's name and labels when it is running (cached; `lookup` is asked once per unknown task).
    func runningTask(taskID: String, lookup: (String) async -> WasmTask?) async -> RunningTaskNames.Entry? {
        switch runningTasks.state(of: taskID) {
        case .running(let entry): return entry
        case .notRunning: return nil
        case .unknown:
            guard let task = await lookup(taskID) else { return nil }
            if task.state == .running {
                let entry = RunningTaskNames.Entry(name: task.name, labels: task.labels)
                runningTasks.markRunning(id: taskID, entry)
                return entry
            }
            runningTasks.forget(taskID)
            return nil
        }
    }

    /// Removes gauges of tasks that are no longer running (a late sample may have re-created them).
    public func removeStaleTaskGauges() {
        for id in taskIDsWithSeries.subtracting(runningTasks.runningIDs) { removeTask(id: id) }
    }
}

/// Names and labels of tasks known to run, and a bounded set of tasks known not to (cleared when full).
final class RunningTaskNames: Sendable {
    /// What the series of a running task are labelled with.
    struct Entry: Sendable, Equatable {
        var name: String
        var labels: [String: String]
    }

    enum State {
        case running(Entry)
        case notRunning
        case unknown
    }

    private struct Book {
        var running: [String: Entry] = [:]
        var notRunning: Set<String> = []
    }

    private let book = Mutex(Book())
    /// Most ids kept in the not-running set.
    static let notRunningLimit = 10_000

    func state(of id: String) -> State {
        book.withLock { book in
            if let entry = book.running[id] { return .running(entry) }
            return book.notRunning.contains(id) ? .notRunning : .unknown
        }
    }

    func markRunning(id: String, _ entry: Entry) {
        book.withLock { book in
            book.running[id] = entry
            book.notRunning.remove(id)
        }
    }

    func forget(_ id: String) {
        book.withLock { book in
            book.running[id] = nil
            if book.notRunning.count >= Self.notRunningLimit { book.notRunning.removeAll() }
            book.notRunning.insert(id)
        }
    }

    var runningIDs: Set<String> { book.withLock { Set($0.running.keys) } }
}
