import PropellerCore
import Synchronization

/// The bookkeeping behind the task gauges: which tasks run and under which name. The task service
/// reports starts and ends; ingestion hands over the newest sample per task and a way to look a task up.
extension ManagerMetrics {
    /// A task started: its gauges may be set from now on.
    public func taskStarted(id: String, name: String) {
        runningTasks.markRunning(id: id, name: name)
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
            guard let name = await runningName(taskID: id, lookup: lookup) else { continue }
            updateTask(id: id, name: name, sample: sample)
        }
    }

    /// The task's name when it is running (cached; `lookup` is asked once per unknown task).
    func runningName(taskID: String, lookup: (String) async -> WasmTask?) async -> String? {
        switch runningTasks.state(of: taskID) {
        case .running(let name): return name
        case .notRunning: return nil
        case .unknown:
            guard let task = await lookup(taskID) else { return nil }
            if task.state == .running {
                runningTasks.markRunning(id: taskID, name: task.name)
                return task.name
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

/// Names of tasks known to run, and a bounded set of tasks known not to (cleared when full).
final class RunningTaskNames: Sendable {
    enum State {
        case running(name: String)
        case notRunning
        case unknown
    }

    private struct Book {
        var running: [String: String] = [:]
        var notRunning: Set<String> = []
    }

    private let book = Mutex(Book())
    /// Most ids kept in the not-running set.
    static let notRunningLimit = 10_000

    func state(of id: String) -> State {
        book.withLock { book in
            if let name = book.running[id] { return .running(name: name) }
            return book.notRunning.contains(id) ? .notRunning : .unknown
        }
    }

    func markRunning(id: String, name: String) {
        book.withLock { book in
            book.running[id] = name
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
