import GRDB
import PropellerCore

extension SQLiteStore {
    private static let propletColumns = "id, name, alive, last_seen_us, running_tasks, metadata_json"

    public func upsertProplet(_ proplet: Proplet) async throws {
        let arguments = try TaskRowCoding.arguments(for: proplet)
        try await write("upsert proplet") { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO proplets (\(Self.propletColumns)) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: arguments
            )
        }
    }

    public func proplet(id: String) async throws -> Proplet? {
        try await read("read proplet") { db in
            let row = try Row.fetchOne(
                db,
                sql: "SELECT \(Self.propletColumns) FROM proplets WHERE id = ?",
                arguments: [id]
            )
            return try row.map(TaskRowCoding.proplet(from:))
        }
    }

    public func proplets(page: Page) async throws -> PageResult<Proplet> {
        let (limit, offset) = Self.bounds(page)
        return try await read("list proplets") { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM proplets") ?? 0
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT \(Self.propletColumns) FROM proplets ORDER BY id LIMIT ? OFFSET ?",
                arguments: [limit, offset]
            )
            return PageResult(items: try rows.map(TaskRowCoding.proplet(from:)), total: total)
        }
    }

    /// Deletes the proplet and its proplet-level samples (its tasks and their samples stay).
    public func deleteProplet(id: String) async throws -> Bool {
        try await write("delete proplet") { db in
            try db.execute(sql: "DELETE FROM proplet_samples WHERE proplet_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM proplets WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }
}
