import PropellerCore
import PropellerManager
import Testing

@Suite("Store: tasks and proplets (every store)")
struct StoreTaskTests {
    typealias F = StoreFixtures

    @Test("a task round-trips every field, updates replace it, deletes remove it", arguments: StoreFactory.all)
    func taskLifecycle(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            let task = F.task("t-1")
            try await store.insertTask(task)
            #expect(try await store.task(id: "t-1") == task)
            #expect(try await store.task(id: "missing") == nil)

            var finished = task
            finished.state = .failed
            finished.propletID = "p-1"
            finished.results = "42"
            finished.error = "trap: unreachable"
            finished.exitCode = 3
            finished.startedAt = F.time(10)
            finished.finishedAt = F.time(20)
            finished.updatedAt = F.time(20)
            finished.monitoringProfile = .minimal
            try await store.updateTask(finished)
            let stored = try #require(try await store.task(id: "t-1"))
            #expect(stored == finished)
            #expect(stored.inputs == [.integer(2), .number(2.0), .number(-0.5), .string("text with \"quotes\"")])

            #expect(try await store.deleteTask(id: "t-1"))
            #expect(try await store.task(id: "t-1") == nil)
            #expect(try await !store.deleteTask(id: "t-1"))
        }
    }

    @Test("inserting an existing id is a conflict; updating an unknown id is not found", arguments: StoreFactory.all)
    func taskErrors(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.insertTask(F.task("t-1"))
            await #expect(throws: StoreError.conflict(kind: "task", id: "t-1")) {
                try await store.insertTask(F.task("t-1", created: 99))
            }
            #expect(try await store.task(id: "t-1")?.createdAt == F.time(0))
            await #expect(throws: StoreError.notFound(kind: "task", id: "nope")) {
                try await store.updateTask(F.task("nope"))
            }
            #expect(try await store.task(id: "nope") == nil)
        }
    }

    @Test("tasks list oldest first, filter by state and page with the matching total", arguments: StoreFactory.all)
    func taskPaging(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            // Inserted out of order; two share a creation time (then ordered by id).
            let states: [TaskState] = [.pending, .running, .completed, .running, .failed, .running, .stopped]
            for index in [3, 0, 6, 1, 5, 2, 4] {
                let created = index == 6 ? 1.0 : Double(index)
                try await store.insertTask(F.task("t-\(index)", created: created, state: states[index]))
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

    @Test("running tasks of a proplet are exactly its tasks in state running", arguments: StoreFactory.all)
    func runningTasksOfProplet(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.insertTask(F.task("a", created: 2, state: .running, propletID: "p-1"))
            try await store.insertTask(F.task("b", created: 1, state: .running, propletID: "p-1"))
            try await store.insertTask(F.task("c", created: 0, state: .completed, propletID: "p-1"))
            try await store.insertTask(F.task("d", created: 0, state: .running, propletID: "p-2"))
            #expect(try await store.runningTasks(propletID: "p-1").map(\.id) == ["b", "a"])
            #expect(try await store.runningTasks(propletID: "p-3").isEmpty)
        }
    }

    @Test("proplets upsert by id, list by id with totals, and delete", arguments: StoreFactory.all)
    func proplets(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            for id in ["p-c", "p-a", "p-b"] { try await store.upsertProplet(F.proplet(id)) }
            var lost = F.proplet("p-a", alive: false, withMetadata: false)
            lost.runningTasks = 0
            try await store.upsertProplet(lost)
            #expect(try await store.proplet(id: "p-a") == lost)
            #expect(try await store.proplet(id: "p-b") == F.proplet("p-b"))
            #expect(try await store.proplet(id: "p-z") == nil)

            let page = try await store.proplets(page: Page(offset: 1, limit: 5))
            #expect(page.total == 3)
            #expect(page.items.map(\.id) == ["p-b", "p-c"])

            #expect(try await store.deleteProplet(id: "p-b"))
            #expect(try await !store.deleteProplet(id: "p-b"))
            #expect(try await store.proplets(page: Page()).items.map(\.id) == ["p-a", "p-c"])
        }
    }
}
