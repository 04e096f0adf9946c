import GRDB
import PropellerCore

extension SQLiteStore {
    private static let taskColumns = """
        id, name, file, image_url, inputs_json, env_json, cli_args_json, daemon, profile_json, state,
        proplet_id, results, error, exit_code, created_at_us, updated_at_us, started_at_us, finished_at_us,
        limits_json
        """

    public func insertTask(_ task: WasmTask) async throws {
        let arguments = try TaskRowCoding.arguments(for: task)
        try await write("insert task") { db in
            do {
                try db.execute(
                    sql: "INSERT INTO tasks (\(Self.taskColumns)) VALUES (\(Self.placeholders(19)))",
                    arguments: arguments
                )
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw StoreError.conflict(kind: "task", id: task.id)
            }
        }
    }

    public func updateTask(_ task: WasmTask) async throws {
        let arguments = try TaskRowCoding.arguments(for: task) + [task.id]
        try await write("update task") { db in
            try db.execute(
                sql: """
                    UPDATE tasks SET (\(Self.taskColumns)) = (\(Self.placeholders(19)))
                    WHERE id = ?
                    """,
                arguments: arguments
            )
            guard db.changesCount > 0 else { throw StoreError.notFound(kind: "task", id: task.id) }
        }
    }

    public func task(id: String) async throws -> WasmTask? {
        try await read("read task") { db in
            let row = try Row.fetchOne(
                db,
                sql: "SELECT \(Self.taskColumns) FROM tasks WHERE id = ?",
                arguments: [id]
            )
            return try row.map(TaskRowCoding.task(from:))
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

    public func deleteTask(id: String) async throws -> Bool {
        try await write("delete task") { db in
            try db.execute(sql: "DELETE FROM task_samples WHERE task_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM tasks WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func runningTasks(propletID: String) async throws -> [WasmTask] {
        try await read("list running tasks") { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.taskColumns) FROM tasks WHERE proplet_id = ? AND state = 'running'
                    ORDER BY created_at_us, id
                    """,
                arguments: [propletID]
            )
            return try rows.map(TaskRowCoding.task(from:))
        }
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
