import GRDB
import PropellerCore

extension SQLiteStore {
    @discardableResult
    public func insertTaskSamples(_ samples: [TaskSample]) async throws -> Int {
        guard !samples.isEmpty else { return 0 }
        let rows = samples.map(SampleRowCoding.arguments(for:))
        return try await write("insert task samples") { db in
            try Self.insertIgnoringDuplicates(
                db,
                into: "task_samples",
                columns: SampleRowCoding.taskColumns,
                count: SampleRowCoding.taskColumnCount,
                rows: rows
            )
        }
    }

    public func taskSamples(
        taskID: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page
    ) async throws -> PageResult<TaskSample> {
        let query = SeriesQuery(table: "task_samples", key: "task_id", columns: SampleRowCoding.taskColumns)
        return try await read("read task samples") { db in
            try query.page(db, id: taskID, range: range, order: order, page: page) { names in
                try TaskSampleDecoder(names).sample(from:)
            }
        }
    }

    @discardableResult
    public func insertPropletSamples(_ samples: [PropletSample]) async throws -> Int {
        guard !samples.isEmpty else { return 0 }
        let rows = samples.map(SampleRowCoding.arguments(for:))
        return try await write("insert proplet samples") { db in
            try Self.insertIgnoringDuplicates(
                db,
                into: "proplet_samples",
                columns: SampleRowCoding.propletColumns,
                count: SampleRowCoding.propletColumnCount,
                rows: rows
            )
        }
    }

    public func propletSamples(
        propletID: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page
    ) async throws -> PageResult<PropletSample> {
        let query = SeriesQuery(table: "proplet_samples", key: "proplet_id", columns: SampleRowCoding.propletColumns)
        return try await read("read proplet samples") { db in
            try query.page(
                db,
                id: propletID,
                range: range,
                order: order,
                page: page
            ) { names in try PropletSampleDecoder(names).sample(from:) }
        }
    }

    /// Inserts rows with one prepared statement inside the caller's transaction; a row whose key is
    /// already stored is skipped. Returns how many rows were inserted.
    static func insertIgnoringDuplicates(
        _ db: Database,
        into table: String,
        columns: String,
        count: Int,
        rows: [StatementArguments]
    ) throws -> Int {
        let statement = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO \(table) (\(columns)) VALUES (\(placeholders(count)))"
        )
        var inserted = 0
        for arguments in rows {
            statement.setUncheckedArguments(arguments)
            try statement.execute()
            inserted += db.changesCount
        }
        return inserted
    }
}

/// Paging and range queries over one sample table keyed by (series id, `timestamp_us`).
struct SeriesQuery: Sendable {
    var table: String
    /// The series column (`task_id` or `proplet_id`).
    var key: String
    var columns: String

    /// Inclusive bounds of a range in microseconds; an open end is the extreme of Int64.
    static func bounds(_ range: TimeRange) -> (from: Int64, to: Int64) {
        (range.from?.microsecondsSinceEpoch ?? .min, range.to?.microsecondsSinceEpoch ?? .max)
    }

    /// The WHERE clause selecting one series in a range (`:id`, `:from`, `:to`).
    var filter: String { "\(key) = :id AND timestamp_us BETWEEN :from AND :to" }

    func page<Item>(
        _ db: Database,
        id: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page,
        decoder: ([String]) throws -> (Row) throws -> Item
    ) throws -> PageResult<Item> {
        let (from, to) = Self.bounds(range)
        let (limit, offset) = SQLiteStore.bounds(page)
        let direction = order == .ascending ? "ASC" : "DESC"
        let arguments: StatementArguments = ["id": id, "from": from, "to": to, "limit": limit, "offset": offset]
        let total =
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT COUNT(*) FROM \(table) WHERE \(filter)"),
                arguments: arguments
            ) ?? 0
        let statement = try db.cachedStatement(
            sql: """
                SELECT \(columns) FROM \(table) WHERE \(filter)
                ORDER BY timestamp_us \(direction) LIMIT :limit OFFSET :offset
                """
        )
        // Column names are resolved to positions once per statement, not per row.
        let decode = try decoder(statement.columnNames)
        var items: [Item] = []
        items.reserveCapacity(limit)
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        while let row = try rows.next() {
            items.append(try decode(row))
        }
        return PageResult(items: items, total: total)
    }
}
