import Foundation
import PropellerCore
import PropellerManager
import PropellerTestSupport
import Testing

/// What only the PostgreSQL store has: a server of its own, several stores on one database, and a
/// database that goes away and comes back. The shared store suite covers the rest (`StoreFactory.all`).
@Suite("Store: PostgreSQL (real server)", .timeLimit(.minutes(2)))
struct PostgresStoreTests {
    typealias F = StoreFactory

    @Test("the test server runs as a non-root user, serves its URL, and leaves no files behind")
    func testServer() async throws {
        if let reason = PostgresInstallation.missingReason { try Test.cancel(Comment(rawValue: reason)) }
        let directory = try await withPostgres { server in
            #expect(server.url.hasPrefix("postgres://propeller:"))
            #expect(LoopbackPort.acceptsConnections(server.port))
            let owner = try FileManager.default.attributesOfItem(atPath: server.directory.path)[.ownerAccountID] as? Int
            #expect(owner != 0, "PostgreSQL refuses to run as root: its directory must belong to another user")
            return server.directory
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }

    @Test("two stores opened at once on one database migrate once and see each other's writes")
    func twoStoresOneDatabase() async throws {
        try await withPostgresStore { first, server in
            let url = try #require(DatabaseURL(server.url))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<2 {
                    group.addTask {
                        try await PostgresStore.withStore(url: url, logger: .quiet) { other in
                            try await other.createTask(StoreFixtures.task("t-\(index)", created: Double(index)))
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await first.tasks(state: nil, page: Page()).items.map(\.id) == ["t-0", "t-1"])
            #expect(try await first.insertTaskSamples([StoreFixtures.sample("t-0", at: 1)]) == 1)
            try await PostgresStore.withStore(url: url, logger: .quiet) { (reopened: PostgresStore) async throws in
                #expect(
                    try await reopened.taskSamples(taskID: "t-0", range: .all, order: .ascending, page: Page()).total
                        == 1
                )
                #expect(try await reopened.insertTaskSamples([StoreFixtures.sample("t-0", at: 1)]) == 0)
            }
        }
    }

    @Test("task samples have one index, the unique covering key, which still deduplicates (migration v7)")
    func oneSampleIndex() async throws {
        try await withPostgresStore { store, server in
            try await store.createTask(StoreFixtures.task("t-1"))
            #expect(try await store.insertTaskSamples([StoreFixtures.sample("t-1", at: 1)]) == 1)
            #expect(try await store.insertTaskSamples([StoreFixtures.sample("t-1", at: 1)]) == 0)
            // psql fails (and `execute` throws) when the check raises.
            try await server.execute(
                """
                DO $$ BEGIN
                  IF (SELECT string_agg(indexname, ',') FROM pg_indexes WHERE tablename = 'task_samples')
                       IS DISTINCT FROM 'task_samples_key'
                     OR NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'task_samples_key'
                                    AND indexdef LIKE 'CREATE UNIQUE INDEX%INCLUDE%') THEN
                    RAISE EXCEPTION 'task_samples indexes: %',
                      (SELECT string_agg(indexdef, '; ') FROM pg_indexes WHERE tablename = 'task_samples');
                  END IF;
                END $$
                """,
                database: PostgresServer.database
            )
        }
    }

    @Test("a start-up behind a session holding the migration lock fails in its start-up timeout, naming the lock")
    func migrationLockHeld() async throws {
        try await withPostgresStore { _, server in
            let url = try #require(DatabaseURL(server.url))
            // psql holds the lock for 8 s (a stuck migrator, as far as the next start-up can tell).
            let holder = Task {
                try await server.execute(
                    "SELECT pg_advisory_lock(\(PostgresStore.migrationLockKey)), pg_sleep(8)",
                    database: PostgresServer.database
                )
            }
            let held = """
                DO $$ BEGIN
                  IF NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted) THEN
                    RAISE EXCEPTION 'not held yet';
                  END IF;
                END $$
                """
            let waitedFrom = ContinuousClock.now
            while (try? await server.execute(held, database: PostgresServer.database)) == nil {
                #expect(ContinuousClock.now - waitedFrom < .seconds(20), "psql never took the lock")
                try await Task.sleep(for: .milliseconds(100))
            }
            let start = ContinuousClock.now
            do {
                try await PostgresStore.withStore(url: url, logger: .quiet, startupTimeout: .seconds(2)) { _ in }
                Issue.record("opened a store while the migration lock was held")
            } catch let error as StoreError {
                #expect("\(error)".contains("migration lock"), "\(error)")
            }
            #expect(ContinuousClock.now - start < .seconds(6))
            // Once the holder lets go, a start-up with time to spare waits for the lock and opens.
            let total = try await PostgresStore.withStore(url: url, logger: .quiet, startupTimeout: .seconds(30)) {
                try await $0.tasks(state: nil, page: Page()).total
            }
            #expect(total == 0)
            try await holder.value
        }
    }

    @Test("samples go in as column arrays: quotes, backslashes, braces, NULLs and extreme numbers come back exact")
    func columnArrayEdges() async throws {
        try await withPostgresStore { store, _ in
            let id = #"t "1" \ {a,b} NULL é"#
            try await store.createTask(StoreFixtures.task(id))
            var sparse = StoreFixtures.sample(id, at: 1)
            sparse.propletID = #"p,"\"#
            sparse.metrics = ProcessMetrics(cpuPercent: nil, memoryBytes: Int64.max, memoryPercent: 1e-300)
            sparse.aggregated = nil
            var extreme = StoreFixtures.sample(id, at: 2, value: 0.1 + 0.2)
            extreme.metrics.diskReadBytes = Int64.min
            let batch =
                [sparse, extreme, StoreFixtures.sample(id, at: 2)]
                + (3..<12_003).map {
                    StoreFixtures.sample(id, at: Double($0))
                }
            #expect(try await store.insertTaskSamples(batch) == 12_002)
            let stored = try await store.taskSamples(taskID: id, range: .all, order: .ascending, page: Page(limit: 2))
            #expect(stored.total == 12_002)
            #expect(stored.items == [sparse, extreme])
        }
    }

    @Test("sample writes during a PostgreSQL restart wait, then commit every sample exactly once")
    func writesSurviveRestart() async throws {
        try await withPostgresStore { store, server in
            try await store.createTask(StoreFixtures.task("t-1"))
            let samples = (0..<2000).map { StoreFixtures.sample("t-1", at: Double($0) / 10) }
            let batches = stride(from: 0, to: samples.count, by: 100).map {
                Array(samples[$0..<min($0 + 100, samples.count)])
            }
            try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    var inserted = 0
                    for batch in batches {
                        inserted += try await store.insertTaskSamples(batch)
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    return inserted
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(50))
                    await server.stop()
                    try await Task.sleep(for: .seconds(2))
                    try await server.start()
                    return 0
                }
                var total = 0
                for try await inserted in group { total += inserted }
                #expect(total == samples.count)
            }
            let stored = try await store.taskSamples(
                taskID: "t-1",
                range: .all,
                order: .ascending,
                page: Page(limit: 1)
            )
            #expect(stored.total == samples.count)
        }
    }

    @Test("while PostgreSQL is down reads fail as unavailable within the timeout and health says why")
    func readsFailFastWhileDown() async throws {
        try await withPostgresStore(operationTimeout: .seconds(1)) { store, server in
            try await store.createTask(StoreFixtures.task("t-1"))
            #expect(await store.health() == nil)
            await server.kill()
            let start = ContinuousClock.now
            do {
                _ = try await store.task(id: "t-1")
                Issue.record("a read succeeded with the database down")
            } catch let error as StoreError {
                guard case .unavailable = error else {
                    Issue.record("expected unavailable, got \(error)")
                    return
                }
            }
            #expect(ContinuousClock.now - start < .seconds(4))
            let health = await store.health()
            #expect(health?.hasPrefix("database unreachable") == true)
            try await server.start()
            #expect(try await store.task(id: "t-1")?.id == "t-1")
            #expect(await store.health() == nil)
        }
    }

    @Test("a read-only server is reported by health, and sample writes wait until it accepts writes again")
    func readOnlyServer() async throws {
        try await withPostgresStore { store, server in
            try await store.createTask(StoreFixtures.task("t-1"))
            try await server.execute("ALTER SYSTEM SET default_transaction_read_only = on")
            try await server.execute("SELECT pg_reload_conf()")
            try await Task.sleep(for: .milliseconds(300))
            let health = await store.health()
            #expect(health?.contains("read-only") == true, "\(health ?? "nil")")
            let writer = Task { try await store.insertTaskSamples([StoreFixtures.sample("t-1", at: 1)]) }
            try await Task.sleep(for: .seconds(1))
            #expect(try await store.taskSamples(taskID: "t-1", range: .all, order: .ascending, page: Page()).total == 0)
            try await server.execute("ALTER SYSTEM RESET default_transaction_read_only")
            try await server.execute("SELECT pg_reload_conf()")
            #expect(try await writer.value == 1)
            #expect(await store.health() == nil)
        }
    }

    @Test("a wrong password fails the start at once with the server's reason, password masked")
    func wrongPassword() async throws {
        if let reason = PostgresInstallation.missingReason { try Test.cancel(Comment(rawValue: reason)) }
        try await withPostgres { server in
            let url = try #require(DatabaseURL("postgres://propeller:wrong@127.0.0.1:\(server.port)/propeller"))
            let start = ContinuousClock.now
            do {
                try await PostgresStore.withStore(url: url, logger: .quiet) { _ in }
                Issue.record("opened a store with a wrong password")
            } catch let error as StoreError {
                let message = "\(error)"
                #expect(message.contains("password authentication failed"), "\(message)")
                #expect(message.contains("propeller:***@127.0.0.1"), "\(message)")
                #expect(!message.contains("wrong"), "\(message)")
            }
            #expect(ContinuousClock.now - start < .seconds(10))
        }
    }
}
