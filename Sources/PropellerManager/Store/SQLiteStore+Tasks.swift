import Foundation
import GRDB
import PropellerCore

extension SQLiteStore {
    /// The columns of `tasks`, in the argument order of `TaskRowCoding.arguments(for:)`.
    static let taskColumns = """
        id, name, module_digest, module_size_bytes, image_url, inputs_json, env_json, cli_args_json, daemon, profile_json, state,
        proplet_id, results, error, exit_code, created_at_us, updated_at_us, started_at_us, finished_at_us,
        limits_json, labels_json
        """
    /// How many columns `taskColumns` names.
    static let taskColumnCount = 21

    public func createTask(_ task: WasmTask, moduleBytes: Data?) async throws {
        let arguments = try TaskRowCoding.arguments(for: task)
        try await write("create task") { db in
            do {
                try db.execute(
                    sql: "INSERT INTO tasks (\(Self.taskColumns)) VALUES (\(Self.placeholders(Self.taskColumnCount)))",
                    arguments: arguments
                )
                if let moduleBytes, let digest = task.module?.digest {
                    try Self.insertModule(db, digest: digest, bytes: moduleBytes)
                }
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw StoreError.conflict(kind: "task", id: task.id)
            }
        }
    }

    public func task(id: String) async throws -> WasmTask? {
        try await read("read task") { db in try Self.fetchTask(db, id: id) }
    }

    public func tasks(ids: Set<String>) async throws -> [String: WasmTask] {
        guard !ids.isEmpty else { return [:] }
        let ids = Array(ids)
        return try await read("read tasks") { db in
            // At most SQLite's 32,766 host parameters a statement; a batch names a few hundred tasks at most.
            var found: [String: WasmTask] = [:]
            for chunk in stride(from: 0, to: ids.count, by: 10_000).map({ ids[$0..<min($0 + 10_000, ids.count)] }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try Row.fetchAll(
                    db,
                    sql: "SELECT \(Self.taskColumns) FROM tasks WHERE id IN (\(marks))",
                    arguments: StatementArguments(Array(chunk))
                )
                for row in rows {
                    let task = try TaskRowCoding.task(from: row)
                    found[task.id] = task
                }
            }
            return found
        }
    }

    public func tasks(state: TaskState?, page: Page) async throws -> PageResult<WasmTask> {
        let filter = state == nil ? "" : "WHERE state = :state"
        let (limit, offset) = Self.bounds(page)
        return try await read("list tasks") { db in
            var arguments: StatementArguments = ["limit": limit, "offset": offset]
            if let state { arguments += ["state": state.rawValue] }
            let total =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks \(filter)", arguments: arguments) ?? 0
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.taskColumns) FROM tasks \(filter)
                    ORDER BY created_at_us, id LIMIT :limit OFFSET :offset
                    """,
                arguments: arguments
            )
            return PageResult(items: try rows.map(TaskRowCoding.task(from:)), total: total)
        }
    }

    public func startTask(id: String, propletID: String, at now: Timestamp) async throws -> TaskStart {
        try await write("start task") { db in
            guard let task = try Self.fetchTask(db, id: id) else { return .taskNotFound }
            guard task.state != .running else { return .alreadyRunning(task) }
            guard let proplet = try Self.fetchProplet(db, id: propletID) else { return .propletNotFound }
            guard proplet.alive else { return .propletNotAlive(proplet) }
            let started = task.started(on: propletID, at: now)
            // The state condition makes the write itself the compare-and-set, whatever the isolation.
            try Self.updateTask(db, started, where: "state <> 'running'", [])
            guard db.changesCount == 1 else { return .alreadyRunning(task) }
            return .started(started, previous: task)
        }
    }

    public func undoStart(_ started: WasmTask, restoring previous: WasmTask) async throws -> Bool {
        try await write("undo task start") { db in
            try Self.updateTask(
                db,
                previous,
                where: "state = 'running' AND proplet_id IS ? AND started_at_us IS ? AND updated_at_us = ?",
                [
                    started.propletID, started.startedAt?.microsecondsSinceEpoch,
                    started.updatedAt.microsecondsSinceEpoch,
                ]
            )
            return db.changesCount == 1
        }
    }

    public func applyResult(_ result: TaskResult, at now: Timestamp) async throws -> ResultApplication {
        let sample = result.finalSample.map(SampleRowCoding.arguments(for:))
        return try await write("apply result") { db in
            guard let task = try Self.fetchTask(db, id: result.taskID) else { return .unknownTask }
            guard task.propletID == result.propletID else { return .notAssigned(task) }
            guard task.acceptsResult(from: result.propletID) else { return .alreadyFinished(task) }
            let finished = task.finished(with: result, at: now)
            try Self.updateTask(db, finished, where: "updated_at_us = ?", [task.updatedAt.microsecondsSinceEpoch])
            guard db.changesCount == 1 else { return .alreadyFinished(task) }
            var stored = 0
            if let sample {
                stored = try Self.insertIgnoringDuplicates(
                    db,
                    into: "task_samples",
                    columns: SampleRowCoding.taskColumns,
                    count: SampleRowCoding.taskColumnCount,
                    rows: [sample]
                )
            }
            return .applied(finished, storedSamples: stored)
        }
    }

    public func deleteTask(id: String) async throws -> TaskDeletion {
        try await write("delete task") { db in
            guard let task = try Self.fetchTask(db, id: id) else { return .notFound }
            guard task.state != .running else { return .running(task) }
            try db.execute(sql: "DELETE FROM task_samples WHERE task_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM tasks WHERE id = ? AND state <> 'running'", arguments: [id])
            if let digest = task.module?.digest { try Self.deleteModuleIfUnused(db, digest: digest) }
            return .deleted
        }
    }

    // MARK: Statements shared by the operations (inside the caller's transaction)

    static func fetchTask(_ db: Database, id: String) throws -> WasmTask? {
        try Row.fetchOne(db, sql: "SELECT \(taskColumns) FROM tasks WHERE id = ?", arguments: [id])
            .map(TaskRowCoding.task(from:))
    }

    /// Running tasks of a proplet, oldest first.
    static func fetchRunningTasks(_ db: Database, propletID: String) throws -> [WasmTask] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT \(taskColumns) FROM tasks WHERE proplet_id = ? AND state = 'running'
                ORDER BY created_at_us, id
                """,
            arguments: [propletID]
        ).map(TaskRowCoding.task(from:))
    }

    /// Writes every column of `task` to its row when `condition` (with `arguments`) holds.
    static func updateTask(
        _ db: Database,
        _ task: WasmTask,
        where condition: String,
        _ arguments: [(any DatabaseValueConvertible)?]
    ) throws {
        try db.execute(
            sql: "UPDATE tasks SET (\(taskColumns)) = (\(placeholders(taskColumnCount))) WHERE id = ? AND \(condition)",
            arguments: try TaskRowCoding.arguments(for: task) + [task.id] + StatementArguments(arguments)
        )
    }

    /// `?, ?, …` with `count` placeholders.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// LIMIT and OFFSET of a page, clamped to what the protocol accepts (limit 0…1000, offset ≥ 0).
    static func bounds(_ page: Page) -> (limit: Int, offset: Int) {
        (min(max(page.limit, 0), 1000), max(page.offset, 0))
    }
}
