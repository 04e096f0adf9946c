import PropellerCore
import PropellerManager
import Synchronization

/// A minimal in-test store used only until the real `InMemoryStore` lands on this branch.
final class ScratchStore: Store {
    private struct State {
        var tasks: [String: WasmTask] = [:]
        var proplets: [String: Proplet] = [:]
        var taskSamples: [String: [Int64: TaskSample]] = [:]
        var propletSamples: [String: [Int64: PropletSample]] = [:]
    }

    private let state = Mutex(State())

    func insertTask(_ task: WasmTask) async throws {
        try state.withLock { state in
            guard state.tasks[task.id] == nil else { throw StoreError.conflict(kind: "task", id: task.id) }
            state.tasks[task.id] = task
        }
    }

    func updateTask(_ task: WasmTask) async throws {
        try state.withLock { state in
            guard state.tasks[task.id] != nil else { throw StoreError.notFound(kind: "task", id: task.id) }
            state.tasks[task.id] = task
        }
    }

    func task(id: String) async throws -> WasmTask? { state.withLock { $0.tasks[id] } }

    func tasks(state filter: TaskState?, page: Page) async throws -> PageResult<WasmTask> {
        let all = state.withLock { $0.tasks.values }.filter { filter == nil || $0.state == filter }
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        return PageResult(items: Array(all.dropFirst(page.offset).prefix(page.limit)), total: all.count)
    }

    func deleteTask(id: String) async throws -> Bool {
        state.withLock { state in
            state.taskSamples[id] = nil
            return state.tasks.removeValue(forKey: id) != nil
        }
    }

    func runningTasks(propletID: String) async throws -> [WasmTask] {
        state.withLock { $0.tasks.values.filter { $0.state == .running && $0.propletID == propletID } }
    }

    func upsertProplet(_ proplet: Proplet) async throws { state.withLock { $0.proplets[proplet.id] = proplet } }
    func proplet(id: String) async throws -> Proplet? { state.withLock { $0.proplets[id] } }

    func proplets(page: Page) async throws -> PageResult<Proplet> {
        let all = state.withLock { $0.proplets.values }.sorted { $0.id < $1.id }
        return PageResult(items: Array(all.dropFirst(page.offset).prefix(page.limit)), total: all.count)
    }

    func deleteProplet(id: String) async throws -> Bool {
        state.withLock { $0.proplets.removeValue(forKey: id) != nil }
    }

    func insertTaskSamples(_ samples: [TaskSample]) async throws -> Int {
        state.withLock { state in
            var count = 0
            for sample in samples where state.taskSamples[sample.taskID]?[sample.timestamp.microsecondsSinceEpoch] == nil {
                state.taskSamples[sample.taskID, default: [:]][sample.timestamp.microsecondsSinceEpoch] = sample
                count += 1
            }
            return count
        }
    }

    private func select<T>(_ all: [T], _ time: (T) -> Timestamp, _ range: TimeRange, _ order: SampleOrder) -> [T] {
        let filtered = all.filter { item in
            (range.from.map { time(item) >= $0 } ?? true) && (range.to.map { time(item) <= $0 } ?? true)
        }
        let sorted = filtered.sorted { time($0) < time($1) }
        return order == .ascending ? sorted : sorted.reversed()
    }

    func taskSamples(taskID: String, range: TimeRange, order: SampleOrder, page: Page) async throws
        -> PageResult<TaskSample>
    {
        let all = select(Array(state.withLock { $0.taskSamples[taskID] ?? [:] }.values), \.timestamp, range, order)
        return PageResult(items: Array(all.dropFirst(page.offset).prefix(page.limit)), total: all.count)
    }

    func taskAggregate(taskID: String, range: TimeRange) async throws -> AggregatedMetrics? {
        let all = select(Array(state.withLock { $0.taskSamples[taskID] ?? [:] }.values), \.timestamp, range, .ascending)
        guard !all.isEmpty else { return nil }
        let cpu = all.compactMap(\.metrics.cpuPercent)
        let memory = all.compactMap(\.metrics.memoryBytes)
        return AggregatedMetrics(
            avgCPUUsage: cpu.isEmpty ? 0 : cpu.reduce(0, +) / Double(cpu.count),
            maxCPUUsage: cpu.max() ?? 0,
            avgMemoryUsage: memory.isEmpty ? 0 : Double(memory.reduce(0, +)) / Double(memory.count),
            maxMemoryUsage: memory.max() ?? 0,
            sampleCount: Int64(all.count)
        )
    }

    func insertPropletSamples(_ samples: [PropletSample]) async throws -> Int {
        state.withLock { state in
            var count = 0
            for sample in samples
            where state.propletSamples[sample.propletID]?[sample.timestamp.microsecondsSinceEpoch] == nil {
                state.propletSamples[sample.propletID, default: [:]][sample.timestamp.microsecondsSinceEpoch] = sample
                count += 1
            }
            return count
        }
    }

    func propletSamples(propletID: String, range: TimeRange, order: SampleOrder, page: Page) async throws
        -> PageResult<PropletSample>
    {
        let all = select(
            Array(state.withLock { $0.propletSamples[propletID] ?? [:] }.values),
            \.timestamp,
            range,
            order
        )
        return PageResult(items: Array(all.dropFirst(page.offset).prefix(page.limit)), total: all.count)
    }

    func applyRetention(_ policy: RetentionPolicy, now: Timestamp) async throws -> Int { 0 }
}
