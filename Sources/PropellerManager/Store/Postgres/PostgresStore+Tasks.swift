import Foundation
import Logging
import PostgresNIO
import PropellerCore

extension PostgresStore {
    static let taskColumnList = PostgresRowCoding.taskColumns.joined(separator: ", ")
    static let propletColumnList = PostgresRowCoding.propletColumns.joined(separator: ", ")

    /// `$first, $first+1, …` for `count` parameters.
    static func parameters(_ count: Int, from first: Int = 1) -> String {
        (first..<first + count).map { "$\($0)" }.joined(separator: ", ")
    }

    public func createTask(_ task: WasmTask, moduleBytes: Data?) async throws {
        let bindings = try PostgresRowCoding.bindings(for: task)
        let sql = """
            INSERT INTO tasks (\(Self.taskColumnList)) VALUES (\(Self.parameters(bindings.count)))
            ON CONFLICT (id) DO NOTHING RETURNING 1
            """
        let module = moduleBytes.flatMap { bytes in task.module?.digest.map { (digest: $0, bytes: bytes) } }
        let inserted = try await write("create task") { connection in
            let count = try await Self.rowCount(
                connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger)
            )
            if count == 1, let module {
                try await Self.insertModule(connection, digest: module.digest, bytes: module.bytes, logger: self.logger)
            }
            return count
        }
        if inserted == 0 { throw StoreError.conflict(kind: "task", id: task.id) }
    }

    public func task(id: String) async throws -> WasmTask? {
        try await read("read task") { connection in
            try await Self.fetchTask(connection, id: id, lock: "", logger: self.logger)
        }
    }

    public func tasks(ids: Set<String>) async throws -> [String: WasmTask] {
        guard !ids.isEmpty else { return [:] }
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(Array(ids))
        return try await read("read tasks") { [bindings] connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.taskColumnList) FROM tasks WHERE id = ANY($1::text[])",
                    binds: bindings
                ),
                logger: self.logger
            )
            let tasks = try await Self.decodeAll(rows, PostgresRowCoding.task(from:))
            return Dictionary(tasks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Tasks oldest first (ties by id), with the total in the same statement when the page is not empty.
    public func tasks(state: TaskState?, page: Page) async throws -> PageResult<WasmTask> {
        let (limit, offset) = PostgresSeriesQuery.bounds(page)
        let filter = state == nil ? "" : "WHERE state = $3"
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(limit)
        bindings.append(offset)
        if let state { bindings.append(state.rawValue) }
        var countBindings = PostgresBindings()
        if let state { countBindings.append(state.rawValue) }
        let countSQL = "SELECT count(*) FROM tasks \(state == nil ? "" : "WHERE state = $1")"
        return try await read("list tasks") { [bindings, countBindings] connection in
            var total: Int?
            var items: [WasmTask] = []
            if limit > 0 {
                let rows = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT (SELECT count(*) FROM tasks \(filter)) AS total, \(Self.taskColumnList)
                            FROM tasks \(filter) ORDER BY created_at_us, id COLLATE "C" LIMIT $1 OFFSET $2
                            """,
                        binds: bindings
                    ),
                    logger: self.logger
                )
                for try await row in rows {
                    let row = row.makeRandomAccess()
                    total = Int(try row["total"].decode(Int64.self))
                    items.append(try PostgresRowCoding.task(from: row))
                }
            }
            if total == nil { total = try await Self.count(connection, countSQL, countBindings, logger: self.logger) }
            return PageResult(items: items, total: total ?? 0)
        }
    }

    /// The task's row is locked first (`FOR UPDATE`: concurrent starts of one task queue up and the later
    /// ones see it running), then the proplet's (`FOR SHARE`: a concurrent `markPropletLost` waits for this
    /// start to commit and then fails the task it started). The conditional `UPDATE` is the
    /// compare-and-set itself.
    public func startTask(id: String, propletID: String, at now: Timestamp) async throws -> TaskStart {
        let logger = self.logger
        return try await write("start task") { connection in
            guard let task = try await Self.fetchTask(connection, id: id, lock: "FOR UPDATE", logger: logger) else {
                return .taskNotFound
            }
            guard task.state != .running else { return .alreadyRunning(task) }
            guard
                let proplet = try await Self.fetchProplet(connection, id: propletID, lock: "FOR SHARE", logger: logger)
            else { return .propletNotFound }
            guard proplet.alive else { return .propletNotAlive(proplet) }
            let started = task.started(on: propletID, at: now)
            let updated = try await Self.updateTask(connection, started, where: "state <> 'running'", logger: logger)
            return updated ? .started(started, previous: task) : .alreadyRunning(task)
        }
    }

    public func undoStart(_ started: WasmTask, restoring previous: WasmTask) async throws -> Bool {
        let logger = self.logger
        return try await write("undo task start") { connection in
            let count = PostgresRowCoding.taskColumns.count + 1
            return try await Self.updateTask(
                connection,
                previous,
                where: """
                    state = 'running' AND proplet_id IS NOT DISTINCT FROM $\(count + 1)
                    AND started_at_us IS NOT DISTINCT FROM $\(count + 2) AND updated_at_us = $\(count + 3)
                    """,
                logger: logger
            ) { bindings in
                bindings.append(started.propletID)
                bindings.append(started.startedAt?.microsecondsSinceEpoch)
                bindings.append(started.updatedAt.microsecondsSinceEpoch)
            }
        }
    }

    /// Locks the task, checks the assignment, writes the result and the final sample in one transaction.
    public func applyResult(_ result: TaskResult, at now: Timestamp) async throws -> ResultApplication {
        let logger = self.logger
        let sample = result.finalSample
        return try await write("apply result") { connection in
            guard let task = try await Self.fetchTask(connection, id: result.taskID, lock: "FOR UPDATE", logger: logger)
            else { return .unknownTask }
            guard task.propletID == result.propletID else { return .notAssigned(task) }
            guard task.acceptsResult(from: result.propletID) else { return .alreadyFinished(task) }
            let finished = task.finished(with: result, at: now)
            guard try await Self.updateTask(connection, finished, where: "TRUE", logger: logger) else {
                return .alreadyFinished(task)
            }
            var stored = 0
            if let sample {
                stored = try await Self.insertRows(
                    connection,
                    table: "task_samples",
                    columns: PostgresRowCoding.taskSampleColumns,
                    rows: [sample],
                    bind: PostgresRowCoding.bind(_:into:),
                    logger: logger
                )
            }
            return .applied(finished, storedSamples: stored)
        }
    }

    public func deleteTask(id: String) async throws -> TaskDeletion {
        let logger = self.logger
        return try await write("delete task") { connection in
            guard let task = try await Self.fetchTask(connection, id: id, lock: "FOR UPDATE", logger: logger) else {
                return .notFound
            }
            guard task.state != .running else { return .running(task) }
            try await connection.query("DELETE FROM task_samples WHERE task_id = \(id)", logger: logger)
            try await connection.query("DELETE FROM tasks WHERE id = \(id)", logger: logger)
            if let digest = task.module?.digest {
                try await Self.deleteModuleIfUnused(connection, digest: digest, logger: logger)
            }
            return .deleted
        }
    }

    // MARK: Statements shared by the operations (inside the caller's transaction)

    /// The task, optionally with a row lock (`lock`: "", "FOR UPDATE", "FOR SHARE").
    static func fetchTask(
        _ connection: PostgresConnection,
        id: String,
        lock: String,
        logger: Logger
    ) async throws -> WasmTask? {
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT \(taskColumnList) FROM tasks WHERE id = $1 \(lock)", binds: binding(id)),
            logger: logger
        )
        return try await decodeAll(rows, PostgresRowCoding.task(from:)).first
    }

    /// Writes every column of `task` to its row when `condition` holds (its parameters, appended by
    /// `extra`, are numbered after the task's columns and id). Returns whether the row was written.
    static func updateTask(
        _ connection: PostgresConnection,
        _ task: WasmTask,
        where condition: String,
        logger: Logger,
        extra: (inout PostgresBindings) -> Void = { _ in }
    ) async throws -> Bool {
        var bindings = try PostgresRowCoding.bindings(for: task)
        let count = bindings.count
        bindings.append(task.id)
        extra(&bindings)
        let sql = """
            UPDATE tasks SET (\(taskColumnList)) = (\(parameters(count)))
            WHERE id = $\(count + 1) AND \(condition) RETURNING 1
            """
        return try await rowCount(connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)) == 1
    }

    // MARK: Helpers

    static func binding(_ value: String) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(value)
        return bindings
    }

    /// The number of rows of a result (used with `RETURNING 1`).
    static func rowCount(_ rows: PostgresRowSequence) async throws -> Int {
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    static func count(
        _ connection: PostgresConnection,
        _ sql: String,
        _ bindings: PostgresBindings,
        logger: Logger
    ) async throws -> Int {
        var total = 0
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        for try await count in rows.decode(Int64.self) { total = Int(count) }
        return total
    }

    static func decodeAll<Item>(
        _ rows: PostgresRowSequence,
        _ decode: (PostgresRandomAccessRow) throws -> Item
    ) async throws -> [Item] {
        var items: [Item] = []
        for try await row in rows { items.append(try decode(row.makeRandomAccess())) }
        return items
    }
}
