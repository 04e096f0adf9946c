import PropellerCore
import PropellerManager
import Testing

@Suite("Store: tasks and proplets (every store)")
struct StoreTaskTests {
    typealias F = StoreFixtures

    @Test("a task round-trips every field through start and result; deletes remove it", arguments: StoreFactory.all)
    func taskLifecycle(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            var task = F.task("t-1")
            task.labels = ["team": "edge", "tier_2": "a \"quoted\" value"]
            try await store.createTask(task)
            #expect(try await store.task(id: "t-1") == task)
            #expect(try await store.task(id: "missing") == nil)

            try await store.seed(F.proplet("p-1"))
            guard
                case .started(let started, let previous) = try await store.startTask(
                    id: "t-1",
                    propletID: "p-1",
                    at: F.time(10)
                )
            else { throw TestFailure("not started") }
            #expect(previous == task)
            #expect(started == task.started(on: "p-1", at: F.time(10)))
            #expect(try await store.task(id: "t-1") == started)

            let result = TaskResult(
                taskID: "t-1",
                propletID: "p-1",
                state: .failed,
                results: "42",
                error: "trap: unreachable",
                exitCode: 3,
                startedAt: F.time(10),
                finishedAt: F.time(20)
            )
            guard case .applied(let finished, storedSamples: 0) = try await store.applyResult(result, at: F.time(21))
            else { throw TestFailure("not applied") }
            let stored = try #require(try await store.task(id: "t-1"))
            #expect(stored == finished)
            #expect(stored.state == .failed)
            #expect(stored.results == "42")
            #expect(stored.error == "trap: unreachable")
            #expect(stored.exitCode == 3)
            #expect(stored.finishedAt == F.time(20))
            #expect(stored.updatedAt == F.time(21))
            #expect(stored.inputs == [.integer(2), .number(2.0), .number(-0.5), .string("text with \"quotes\"")])
            #expect(stored.labels == ["team": "edge", "tier_2": "a \"quoted\" value"])

            #expect(try await store.deleteTask(id: "t-1") == .deleted)
            #expect(try await store.task(id: "t-1") == nil)
            #expect(try await store.deleteTask(id: "t-1") == .notFound)
        }
    }

    @Test("creating an existing id is a conflict and keeps the stored task", arguments: StoreFactory.all)
    func taskErrors(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.createTask(F.task("t-1"))
            await #expect(throws: StoreError.conflict(kind: "task", id: "t-1")) {
                try await store.createTask(F.task("t-1", created: 99))
            }
            #expect(try await store.task(id: "t-1")?.createdAt == F.time(0))
        }
    }

    @Test("tasks(ids:) answers the existing tasks of a set by id, as task(id:) does each", arguments: StoreFactory.all)
    func tasksByIDs(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            for index in 0..<30 {
                try await store.createTask(F.task("t-\(index)", created: Double(index), state: .pending))
            }
            let wanted: Set<String> = ["t-0", "t-7", "t-29", "missing", "t-7 "]
            let found = try await store.tasks(ids: wanted)
            #expect(Set(found.keys) == ["t-0", "t-7", "t-29"])
            for (id, task) in found { #expect(try await store.task(id: id) == task) }
            #expect(try await store.tasks(ids: []).isEmpty)
            let every = try await store.tasks(ids: Set((0..<40).map { "t-\($0)" }))
            #expect(every.count == 30)
        }
    }

    @Test("tasks list oldest first, filter by state and page with the matching total", arguments: StoreFactory.all)
    func taskPaging(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            // Inserted out of order; two share a creation time (then ordered by id).
            let states: [TaskState] = [.pending, .running, .completed, .running, .failed, .running, .stopped]
            for index in [3, 0, 6, 1, 5, 2, 4] {
                let created = index == 6 ? 1.0 : Double(index)
                try await store.createTask(F.task("t-\(index)", created: created, state: states[index]))
            }
            let all = try await store.tasks(state: nil, page: Page(offset: 0, limit: 100))
            #expect(all.total == 7)
            #expect(all.items.map(\.id) == ["t-0", "t-1", "t-6", "t-2", "t-3", "t-4", "t-5"])

            let second = try await store.tasks(state: nil, page: Page(offset: 2, limit: 3))
            #expect(second.total == 7)
            #expect(second.items.map(\.id) == ["t-6", "t-2", "t-3"])

            let running = try await store.tasks(state: .running, page: Page(offset: 1, limit: 1))
            #expect(running.total == 3)
            #expect(running.items.map(\.id) == ["t-3"])

            let beyond = try await store.tasks(state: .pending, page: Page(offset: 5, limit: 10))
            #expect(beyond.total == 1)
            #expect(beyond.items.isEmpty)
        }
    }

    @Test(
        "start is a compare-and-set: running tasks, unknown and dead proplets change nothing",
        arguments: StoreFactory.all
    )
    func startOutcomes(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.createTask(F.task("t-1"))
            try await store.seed(F.proplet("p-1"))
            let dead = try await store.seed(F.proplet("p-dead", alive: false))
            #expect(try await store.startTask(id: "nope", propletID: "p-1", at: F.time(1)) == .taskNotFound)
            #expect(try await store.startTask(id: "t-1", propletID: "p-zzz", at: F.time(1)) == .propletNotFound)
            #expect(try await store.startTask(id: "t-1", propletID: "p-dead", at: F.time(1)) == .propletNotAlive(dead))
            #expect(try await store.task(id: "t-1") == F.task("t-1"))

            guard case .started(let started, _) = try await store.startTask(id: "t-1", propletID: "p-1", at: F.time(2))
            else { throw TestFailure("not started") }
            #expect(try await store.startTask(id: "t-1", propletID: "p-1", at: F.time(3)) == .alreadyRunning(started))
            #expect(try await store.deleteTask(id: "t-1") == .running(started))
            #expect(try await store.task(id: "t-1") == started)
        }
    }

    @Test("undoing a start restores the task only while nothing else touched it", arguments: StoreFactory.all)
    func undoStart(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.createTask(F.task("t-1"))
            try await store.seed(F.proplet("p-1"))
            guard
                case .started(let started, let previous) = try await store.startTask(
                    id: "t-1",
                    propletID: "p-1",
                    at: F.time(2)
                )
            else { throw TestFailure("not started") }
            #expect(try await store.undoStart(started, restoring: previous))
            #expect(try await store.task(id: "t-1") == previous)
            #expect(try await !store.undoStart(started, restoring: previous))

            // A result that arrived first wins: the undo changes nothing.
            guard
                case .started(let again, let before) = try await store.startTask(
                    id: "t-1",
                    propletID: "p-1",
                    at: F.time(3)
                )
            else { throw TestFailure("not started") }
            _ = try await store.applyResult(
                TaskResult(taskID: "t-1", propletID: "p-1", state: .completed),
                at: F.time(4)
            )
            #expect(try await !store.undoStart(again, restoring: before))
            #expect(try await store.task(id: "t-1")?.state == .completed)
        }
    }

    @Test(
        "a result applies once, only from the assigned proplet, and stores its final sample",
        arguments: StoreFactory.all
    )
    func resultOnce(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.createTask(F.task("t-1"))
            try await store.seed(F.proplet("p-1"))
            try await store.seed(F.proplet("p-2"))
            let pending = try #require(try await store.task(id: "t-1"))
            let early = TaskResult(taskID: "t-1", propletID: "p-1", state: .completed)
            #expect(try await store.applyResult(early, at: F.time(1)) == .notAssigned(pending))
            #expect(try await store.applyResult(early, at: F.time(1)).isApplied == false)
            let missing = TaskResult(taskID: "nope", propletID: "p-1", state: .completed)
            #expect(try await store.applyResult(missing, at: F.time(1)) == .unknownTask)

            _ = try await store.startTask(id: "t-1", propletID: "p-1", at: F.time(2))
            let running = try #require(try await store.task(id: "t-1"))
            let foreign = TaskResult(taskID: "t-1", propletID: "p-2", state: .failed, error: "no")
            #expect(try await store.applyResult(foreign, at: F.time(3)) == .notAssigned(running))
            #expect(try await store.task(id: "t-1") == running)

            let final = FinalMetrics(
                metrics: ProcessMetrics(cpuPercent: 5, memoryBytes: 100),
                aggregated: AggregatedMetrics(avgCPUUsage: 5, maxCPUUsage: 5, sampleCount: 1),
                timestamp: F.time(3)
            )
            let result = TaskResult(
                taskID: "t-1",
                propletID: "p-1",
                state: .completed,
                results: "7",
                exitCode: 0,
                finalMetrics: final
            )
            guard case .applied(let finished, storedSamples: 1) = try await store.applyResult(result, at: F.time(4))
            else { throw TestFailure("not applied") }
            #expect(finished.finishedAt == F.time(4))

            var repeated = result
            repeated.results = "8"
            #expect(try await store.applyResult(repeated, at: F.time(5)) == .alreadyFinished(finished))
            #expect(try await store.applyResult(foreign, at: F.time(5)) == .notAssigned(finished))
            #expect(try await store.task(id: "t-1") == finished)
            #expect(try await store.taskSamples(taskID: "t-1", range: .all, order: .ascending, page: Page()).total == 1)
        }
    }

    @Test(
        "losing a proplet fails exactly its running tasks; its late result still applies once",
        arguments: StoreFactory.all
    )
    func propletLoss(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.seed(F.proplet("p-1"))
            try await store.seed(F.proplet("p-2"))
            for (id, created) in [("a", 2.0), ("b", 1), ("c", 0), ("d", 0)] {
                try await store.createTask(F.task(id, created: created))
            }
            for (id, proplet) in [("a", "p-1"), ("b", "p-1"), ("c", "p-1"), ("d", "p-2")] {
                _ = try await store.startTask(id: id, propletID: proplet, at: F.time(3))
            }
            _ = try await store.applyResult(TaskResult(taskID: "c", propletID: "p-1", state: .completed), at: F.time(4))

            let loss = try #require(try await store.markPropletLost(id: "p-1", at: F.time(9)))
            #expect(loss.wasAlive)
            #expect(!loss.proplet.alive)
            #expect(loss.proplet.runningTasks == 0)
            #expect(loss.failedTasks.map(\.id) == ["b", "a"])
            for id in ["a", "b"] {
                let task = try #require(try await store.task(id: id))
                #expect(task.state == .failed)
                #expect(task.error == "proplet lost")
                #expect(task.finishedAt == F.time(9))
            }
            #expect(try await store.task(id: "c")?.state == .completed)
            #expect(try await store.task(id: "d")?.state == .running)
            #expect(try await store.markPropletLost(id: "p-zzz", at: F.time(9)) == nil)
            #expect(try await store.markPropletLost(id: "p-1", at: F.time(10))?.wasAlive == false)

            // The proplet comes back with the truth about "a".
            let late = TaskResult(taskID: "a", propletID: "p-1", state: .completed, results: "1")
            guard case .applied(let task, _) = try await store.applyResult(late, at: F.time(11)) else {
                throw TestFailure("late result not applied")
            }
            #expect(task.error == nil)
            #expect(try await store.applyResult(late, at: F.time(12)) == .alreadyFinished(task))
        }
    }

    @Test("the silence sweep marks only proplets seen before the deadline", arguments: StoreFactory.all)
    func silentProplets(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.seed(F.proplet("p-b"))
            try await store.seed(F.proplet("p-a"))
            try await store.seed(F.proplet("p-dead", alive: false))
            _ = try await store.recordHeartbeat(propletID: "p-fresh", runningTasks: 0, at: F.time(30))
            try await store.createTask(F.task("t"))
            _ = try await store.startTask(id: "t", propletID: "p-a", at: F.time(6))

            let losses = try await store.markSilentPropletsLost(seenBefore: F.time(20), at: F.time(40))
            #expect(losses.map(\.proplet.id) == ["p-a", "p-b"])
            #expect(losses.first?.failedTasks.map(\.id) == ["t"])
            #expect(try await store.liveProplets().map(\.id) == ["p-fresh"])
            #expect(try await store.markSilentPropletsLost(seenBefore: F.time(20), at: F.time(41)).isEmpty)
        }
    }

    @Test("registrations and heartbeats keep what the other does not carry", arguments: StoreFactory.all)
    func registrationAndHeartbeat(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            let unknown = try await store.recordHeartbeat(propletID: "p-1", runningTasks: 3, at: F.time(1))
            #expect(!unknown.wasAlive)
            #expect(
                unknown.proplet
                    == Proplet(id: "p-1", name: "p-1", alive: true, lastSeen: F.time(1), runningTasks: 3, metadata: nil)
            )
            let metadata = try #require(F.proplet("p-1").metadata)
            let registered = try await store.registerProplet(
                PropletRegistration(propletID: "p-1", name: "edge", metadata: metadata),
                at: F.time(2)
            )
            #expect(registered.wasAlive)
            #expect(registered.proplet.runningTasks == 3)
            #expect(registered.proplet.metadata == metadata)
            let beat = try await store.recordHeartbeat(propletID: "p-1", runningTasks: 0, at: F.time(3))
            #expect(
                beat.proplet
                    == Proplet(
                        id: "p-1",
                        name: "edge",
                        alive: true,
                        lastSeen: F.time(3),
                        runningTasks: 0,
                        metadata: metadata
                    )
            )
            #expect(try await store.proplet(id: "p-1") == beat.proplet)
        }
    }

    @Test("proplets list by id with totals; delete refuses while tasks run", arguments: StoreFactory.all)
    func proplets(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            for id in ["p-c", "p-a", "p-b"] { try await store.seed(F.proplet(id)) }
            let lost = try await store.seed(F.proplet("p-a", alive: false))
            #expect(!lost.alive)
            #expect(lost.runningTasks == 0)
            #expect(try await store.proplet(id: "p-a") == lost)
            #expect(try await store.proplet(id: "p-b") == F.proplet("p-b"))
            #expect(try await store.proplet(id: "p-z") == nil)
            #expect(try await store.liveProplets().map(\.id) == ["p-b", "p-c"])

            let page = try await store.proplets(page: Page(offset: 1, limit: 5))
            #expect(page.total == 3)
            #expect(page.items.map(\.id) == ["p-b", "p-c"])

            // p-b reports 2 running tasks (its heartbeat): busy until it reports none.
            #expect(try await store.deleteProplet(id: "p-b") == .busy(runningTasks: 2))
            _ = try await store.recordHeartbeat(propletID: "p-b", runningTasks: 0, at: F.time(6))
            try await store.createTask(F.task("t"))
            _ = try await store.startTask(id: "t", propletID: "p-b", at: F.time(7))
            #expect(try await store.deleteProplet(id: "p-b") == .busy(runningTasks: 1))
            _ = try await store.applyResult(TaskResult(taskID: "t", propletID: "p-b", state: .stopped), at: F.time(8))
            #expect(try await store.deleteProplet(id: "p-b") == .deleted)
            #expect(try await store.deleteProplet(id: "p-b") == .notFound)
            #expect(try await store.proplets(page: Page()).items.map(\.id) == ["p-a", "p-c"])
        }
    }
}

extension ResultApplication {
    var isApplied: Bool {
        if case .applied = self { return true }
        return false
    }
}
