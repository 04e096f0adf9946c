import Logging
import PostgresNIO
import PropellerCore

extension PostgresStore {
    /// Stores task samples in one transaction with `INSERT … SELECT * FROM unnest(…) ON CONFLICT DO NOTHING`
    /// (one array per column; see `insertRows`). Waits and retries while the database is unreachable (the
    /// insert is idempotent).
    @discardableResult
    public func insertTaskSamples(_ samples: [TaskSample]) async throws -> Int {
        guard !samples.isEmpty else { return 0 }
        return try await insert(
            "insert task samples",
            table: "task_samples",
            columns: PostgresRowCoding.taskSampleColumns,
            rows: samples,
            bind: PostgresRowCoding.bind(_:into:)
        )
    }

    @discardableResult
    public func insertPropletSamples(_ samples: [PropletSample]) async throws -> Int {
        guard !samples.isEmpty else { return 0 }
        return try await insert(
            "insert proplet samples",
            table: "proplet_samples",
            columns: PostgresRowCoding.propletSampleColumns,
            rows: samples,
            bind: PostgresRowCoding.bind(_:into:)
        )
    }

    public func taskSamples(
        taskID: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page
    ) async throws -> PageResult<TaskSample> {
        let query = PostgresSeriesQuery(
            table: "task_samples",
            key: "task_id",
            columns: PostgresRowCoding.taskSampleColumns
        )
        return try await read("read task samples") { connection in
            try await query.page(connection, id: taskID, range: range, order: order, page: page, logger: self.logger) {
                try PostgresRowCoding.taskSample(from: $0)
            }
        }
    }

    public func propletSamples(
        propletID: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page
    ) async throws -> PageResult<PropletSample> {
        let query = PostgresSeriesQuery(
            table: "proplet_samples",
            key: "proplet_id",
            columns: PostgresRowCoding.propletSampleColumns
        )
        return try await read("read proplet samples") { connection in
            try await query.page(connection, id: propletID, range: range, order: order, page: page, logger: self.logger)
            {
                try PostgresRowCoding.propletSample(from: $0)
            }
        }
    }

    /// Inserts `rows` atomically (one statement, or one transaction; waiting out a lost database);
    /// returns how many were new.
    private func insert<Row: Sendable>(
        _ operation: String,
        table: String,
        columns: [String],
        rows: [Row],
        bind: @escaping @Sendable (Row, inout PostgresColumnArrays) -> Void
    ) async throws -> Int {
        let logger = self.logger
        // Up to one statement's worth of rows is one atomic INSERT: no BEGIN/COMMIT round trips (each costs
        // a wake-up of the server and of this process, dear on a busy machine); more is one transaction.
        let body: @Sendable (PostgresConnection) async throws -> Int = { connection in
            try await Self.insertRows(
                connection,
                table: table,
                columns: columns,
                rows: rows,
                bind: bind,
                logger: logger
            )
        }
        return rows.count <= Self.rowsPerStatement
            ? try await statement(operation, retry: .untilCommitted, body)
            : try await write(operation, retry: .untilCommitted, body)
    }

    /// Most rows one sample INSERT carries.
    static let rowsPerStatement = 10_000

    /// Inserts `rows` inside the caller's transaction with one `INSERT … SELECT * FROM unnest(…) ON
    /// CONFLICT DO NOTHING` per 10,000 rows (one array parameter per column, see
    /// `PostgresColumnArrays`); returns how many rows were new.
    static func insertRows<Row>(
        _ connection: PostgresConnection,
        table: String,
        columns: [String],
        rows: [Row],
        bind: (Row, inout PostgresColumnArrays) -> Void,
        logger: Logger
    ) async throws -> Int {
        let chunk = rowsPerStatement
        var inserted = 0
        var start = 0
        while start < rows.count {
            let end = min(start + chunk, rows.count)
            var arrays = PostgresColumnArrays(columns: columns.count)
            for row in rows[start..<end] { bind(row, &arrays) }
            var bindings = PostgresBindings(capacity: columns.count)
            arrays.bind(into: &bindings)
            let sql = """
                WITH inserted AS (
                    INSERT INTO \(table) (\(columns.joined(separator: ", "))) SELECT * FROM \(arrays.unnestSQL())
                    ON CONFLICT DO NOTHING RETURNING 1
                )
                SELECT count(*) FROM inserted
                """
            let result = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            for try await count in result.decode(Int64.self) { inserted += Int(count) }
            start = end
        }
        return inserted
    }
}

/// Paging and range queries over one sample table keyed by (series id, `timestamp_us`).
struct PostgresSeriesQuery: Sendable {
    var table: String
    /// The series column (`task_id` or `proplet_id`).
    var key: String
    var columns: [String]

    /// LIMIT and OFFSET of a page, clamped to what the protocol accepts (limit 0…1000, offset ≥ 0).
    static func bounds(_ page: Page) -> (limit: Int64, offset: Int64) {
        (Int64(min(max(page.limit, 0), 1000)), Int64(max(page.offset, 0)))
    }

    /// Inclusive bounds of a range in microseconds; an open end is the extreme of Int64.
    static func bounds(_ range: TimeRange) -> (from: Int64, to: Int64) {
        (range.from?.microsecondsSinceEpoch ?? .min, range.to?.microsecondsSinceEpoch ?? .max)
    }

    /// One page and the total in one statement (one snapshot): every row carries the total as a scalar
    /// subquery over the same index range. Only an empty page needs a second statement for the total.
    func page<Item>(
        _ connection: PostgresConnection,
        id: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page,
        logger: Logger,
        decode: (PostgresRandomAccessRow) throws -> Item
    ) async throws -> PageResult<Item> {
        let (from, to) = Self.bounds(range)
        let (limit, offset) = Self.bounds(page)
        let direction = order == .ascending ? "ASC" : "DESC"
        var bindings = PostgresBindings(capacity: 5)
        bindings.append(id)
        bindings.append(from)
        bindings.append(to)
        let filter = "\(key) = $1 AND timestamp_us BETWEEN $2 AND $3"
        let countSQL = "SELECT count(*) FROM \(table) WHERE \(filter)"
        var total: Int?
        var items: [Item] = []
        if limit > 0 {
            var pageBindings = bindings
            pageBindings.append(limit)
            pageBindings.append(offset)
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT (\(countSQL)) AS total, \(columns.joined(separator: ", ")) FROM \(table) WHERE \(filter)
                        ORDER BY timestamp_us \(direction) LIMIT $4 OFFSET $5
                        """,
                    binds: pageBindings
                ),
                logger: logger
            )
            for try await row in rows {
                let row = row.makeRandomAccess()
                total = Int(try row["total"].decode(Int64.self))
                items.append(try decode(row))
            }
        }
        if total == nil {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: countSQL, binds: bindings), logger: logger)
            for try await count in rows.decode(Int64.self) { total = Int(count) }
        }
        return PageResult(items: items, total: total ?? 0)
    }
}
