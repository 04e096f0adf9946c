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

    public func insertTask(_ task: WasmTask) async throws {
        let bindings = try PostgresRowCoding.bindings(for: task)
        let sql = """
            INSERT INTO tasks (\(Self.taskColumnList)) VALUES (\(Self.parameters(bindings.count)))
            ON CONFLICT (id) DO NOTHING RETURNING 1
            """
        let inserted = try await write("insert task") { connection in
            try await Self.rowCount(
                connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger)
            )
        }
        if inserted == 0 { throw StoreError.conflict(kind: "task", id: task.id) }
    }

    public func updateTask(_ task: WasmTask) async throws {
        var bindings = try PostgresRowCoding.bindings(for: task)
        let count = bindings.count
        bindings.append(task.id)
        let sql = """
            UPDATE tasks SET (\(Self.taskColumnList)) = (\(Self.parameters(count)))
            WHERE id = $\(count + 1) RETURNING 1
            """
        let updated = try await write("update task") { [bindings] connection in
            try await Self.rowCount(
                connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger)
            )
        }
        if updated == 0 { throw StoreError.notFound(kind: "task", id: task.id) }
    }

    public func task(id: String) async throws -> WasmTask? {
        try await read("read task") { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.taskColumnList) FROM tasks WHERE id = $1",
                    binds: Self.binding(id)
                ),
                logger: self.logger
            )
            return try await Self.decodeAll(rows, PostgresRowCoding.task(from:)).first
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
                            FROM tasks \(filter) ORDER BY created_at_us, id LIMIT $1 OFFSET $2
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

    public func deleteTask(id: String) async throws -> Bool {
        try await write("delete task") { connection in
            try await connection.query("DELETE FROM task_samples WHERE task_id = \(id)", logger: self.logger)
            return try await Self.rowCount(
                connection.query("DELETE FROM tasks WHERE id = \(id) RETURNING 1", logger: self.logger)
            ) > 0
        }
    }

    public func runningTasks(propletID: String) async throws -> [WasmTask] {
        try await read("list running tasks") { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(Self.taskColumnList) FROM tasks WHERE proplet_id = $1 AND state = 'running'
                        ORDER BY created_at_us, id
                        """,
                    binds: Self.binding(propletID)
                ),
                logger: self.logger
            )
            return try await Self.decodeAll(rows, PostgresRowCoding.task(from:))
        }
    }

    // MARK: Proplets

    public func upsertProplet(_ proplet: Proplet) async throws {
        let bindings = try PostgresRowCoding.bindings(for: proplet)
        let sql = """
            INSERT INTO proplets (\(Self.propletColumnList)) VALUES (\(Self.parameters(bindings.count)))
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, alive = EXCLUDED.alive,
                last_seen_us = EXCLUDED.last_seen_us, running_tasks = EXCLUDED.running_tasks,
                metadata_json = EXCLUDED.metadata_json
            """
        try await write("upsert proplet") { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger)
            return ()
        }
    }

    public func proplet(id: String) async throws -> Proplet? {
        try await read("read proplet") { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.propletColumnList) FROM proplets WHERE id = $1",
                    binds: Self.binding(id)
                ),
                logger: self.logger
            )
            return try await Self.decodeAll(rows, PostgresRowCoding.proplet(from:)).first
        }
    }

    public func proplets(page: Page) async throws -> PageResult<Proplet> {
        let (limit, offset) = PostgresSeriesQuery.bounds(page)
        return try await read("list proplets") { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.propletColumnList) FROM proplets ORDER BY id LIMIT $1 OFFSET $2",
                    binds: {
                        var bindings = PostgresBindings(capacity: 2)
                        bindings.append(limit)
                        bindings.append(offset)
                        return bindings
                    }()
                ),
                logger: self.logger
            )
            let items = try await Self.decodeAll(rows, PostgresRowCoding.proplet(from:))
            let total = try await Self.count(
                connection,
                "SELECT count(*) FROM proplets",
                PostgresBindings(),
                logger: self.logger
            )
            return PageResult(items: items, total: total)
        }
    }

    /// Deletes the proplet and its proplet-level samples (its tasks and their samples stay).
    public func deleteProplet(id: String) async throws -> Bool {
        try await write("delete proplet") { connection in
            try await connection.query("DELETE FROM proplet_samples WHERE proplet_id = \(id)", logger: self.logger)
            return try await Self.rowCount(
                connection.query("DELETE FROM proplets WHERE id = \(id) RETURNING 1", logger: self.logger)
            ) > 0
        }
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
