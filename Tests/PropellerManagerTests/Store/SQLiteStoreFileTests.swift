import Foundation
import GRDB
import PropellerCore
import PropellerManager
import PropellerTestSupport
import Testing

@Suite("SQLiteStore: the database file")
struct SQLiteStoreFileTests {
    typealias F = StoreFixtures

    @Test("reopening the file keeps every task, proplet and sample")
    func durability() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("manager.db").path
            var random = SeededGenerator(seed: 99)
            let tasks = (0..<20).map {
                F.task("task-\($0)", created: Double($0), state: $0 % 3 == 0 ? .running : .completed)
            }
            let samples = (0..<5000).map {
                F.randomSample("task-\($0 % 20)", at: F.time(Double($0) / 20), using: &random)
            }
            let propletSamples = (0..<200).map { F.propletSample("p-\($0 % 2)", at: Double($0), load: Double($0)) }
            do {
                let store = try SQLiteStore(path: path, logger: .quiet)
                for task in tasks { try await store.createTask(task) }
                try await store.seed(F.proplet("p-0"))
                try await store.seed(F.proplet("p-1", alive: false, withMetadata: false))
                for start in stride(from: 0, to: samples.count, by: 500) {
                    #expect(try await store.insertTaskSamples(Array(samples[start..<start + 500])) == 500)
                }
                #expect(try await store.insertPropletSamples(propletSamples) == 200)
                try store.close()
            }

            let reopened = try SQLiteStore(path: path, logger: .quiet)
            let storedTasks = try await reopened.tasks(state: nil, page: Page(limit: 1000))
            #expect(storedTasks.items == tasks)
            var lost = F.proplet("p-1", alive: false, withMetadata: false)
            lost.name = "p-1"  // known from heartbeats only: named by its id
            lost.runningTasks = 0
            #expect(try await reopened.proplets(page: Page()).items == [F.proplet("p-0"), lost])
            for task in 0..<20 {
                var stored: [TaskSample] = []
                for offset in stride(from: 0, to: 250, by: 100) {
                    stored += try await reopened.taskSamples(
                        taskID: "task-\(task)",
                        range: .all,
                        order: .ascending,
                        page: Page(offset: offset, limit: 100)
                    ).items
                }
                #expect(stored == samples.filter { $0.taskID == "task-\(task)" })
            }
            let proplet = try await reopened.propletSamples(
                propletID: "p-1",
                range: .all,
                order: .ascending,
                page: Page(limit: 1000)
            )
            #expect(proplet.items == propletSamples.filter { $0.propletID == "p-1" })
            // Reopening again (migrations already applied) is fine too.
            try reopened.close()
            #expect(try await SQLiteStore(path: path, logger: .quiet).task(id: "task-0") == tasks[0])
        }
    }

    @Test("samples are typed columns keyed by (task_id, timestamp_us), and a range query searches that key")
    func typedSampleSchema() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("schema.db").path
            let store = try SQLiteStore(path: path, logger: .quiet)
            try await store.insertTaskSamples([F.sample("t-1", at: 1)])
            try store.close()

            let queue = try DatabaseQueue(path: path)
            try await queue.read { db in
                // (name, declared type, position in the primary key or 0)
                let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(task_samples)").map { row in
                    (name: row["name"] as String, type: row["type"] as String, key: row["pk"] as Int)
                }
                let types = Dictionary(uniqueKeysWithValues: columns.map { ($0.name, $0.type) })
                #expect(types["timestamp_us"] == "INTEGER")
                #expect(types["cpu_percent"] == "REAL")
                #expect(types["memory_bytes"] == "INTEGER")
                #expect(types["fd_count"] == "INTEGER")
                let key = columns.filter { $0.key > 0 }.sorted { $0.key < $1.key }.map(\.name)
                #expect(key == ["task_id", "timestamp_us"])

                let plan = try Row.fetchAll(
                    db,
                    sql: """
                        EXPLAIN QUERY PLAN SELECT cpu_percent FROM task_samples
                        WHERE task_id = 't-1' AND timestamp_us BETWEEN 0 AND 10 ORDER BY timestamp_us DESC LIMIT 100
                        """
                ).map { row -> String in row["detail"] }.joined(separator: "; ")
                #expect(plan.contains("SEARCH task_samples USING PRIMARY KEY"), "\(plan)")
                #expect(!plan.contains("TEMP B-TREE"), "\(plan)")
            }
            try queue.close()
        }
    }

    @Test("a path that cannot be opened is a database error naming the path")
    func unopenablePath() async throws {
        try await withTemporaryDirectory { directory in
            // Beneath a regular file: no directory can be created there (missing directories are created).
            let file = directory.appendingPathComponent("not-a-directory")
            try Data("x".utf8).write(to: file)
            let path = file.appendingPathComponent("manager.db").path
            let error = try #require(throws: StoreError.self) { try SQLiteStore(path: path, logger: .quiet) }
            #expect("\(error)".contains(path))
        }
    }

    @Test("a file that is not a database is a database error, not a crash")
    func notADatabase() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("garbage.db").path
            try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
            let error = try #require(throws: StoreError.self) { try SQLiteStore(path: path, logger: .quiet) }
            guard case .database(let reason) = error else {
                Issue.record("expected a database error, got \(error)")
                return
            }
            #expect(reason.contains(path))
        }
    }

    @Test("operations on a closed store fail as database errors")
    func closedStore() async throws {
        let store = try SQLiteStore.inMemory(logger: .quiet)
        try store.close()
        await #expect(throws: StoreError.self) { try await store.task(id: "t-1") }
    }
}
