import Foundation
import GRDB
import PropellerCore

extension SQLiteStore {
    public func moduleBytes(digest: String) async throws -> Data? {
        try await read("read module") { db in
            try Data.fetchOne(db, sql: "SELECT bytes FROM modules WHERE digest = ?", arguments: [digest])
        }
    }

    public func moduleCount() async throws -> Int {
        try await read("count modules") { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM modules") ?? 0 }
    }

    /// Stores a module's bytes unless its digest is stored already (inside the caller's transaction).
    static func insertModule(_ db: Database, digest: String, bytes: Data) throws {
        try db.execute(
            sql: "INSERT INTO modules (digest, size_bytes, bytes) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING",
            arguments: [digest, bytes.count, bytes]
        )
    }

    /// Deletes a module no task refers to any more (inside the caller's transaction).
    static func deleteModuleIfUnused(_ db: Database, digest: String) throws {
        try db.execute(
            sql: """
                DELETE FROM modules WHERE digest = :digest
                AND NOT EXISTS (SELECT 1 FROM tasks WHERE module_digest = :digest)
                """,
            arguments: ["digest": digest]
        )
    }

    /// Migration `v5-modules` (SQLite; `v6-modules` in PostgreSQL): a `modules` table holds each uploaded module once per digest, and tasks
    /// refer to it by `module_digest` (with `module_size_bytes`) instead of carrying the base64 text in
    /// `file`, so listing tasks never reads a module. Existing tasks' modules are moved over; `file`
    /// stays, always NULL.
    static func migrateModulesOutOfTasks(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE modules (
                    digest TEXT PRIMARY KEY NOT NULL,
                    size_bytes INTEGER NOT NULL,
                    bytes BLOB NOT NULL
                );
                ALTER TABLE tasks ADD COLUMN module_digest TEXT;
                ALTER TABLE tasks ADD COLUMN module_size_bytes INTEGER;
                CREATE INDEX tasks_by_module ON tasks (module_digest);
                """
        )
        let rows = try Row.fetchCursor(db, sql: "SELECT id, file FROM tasks WHERE file IS NOT NULL")
        var moved: [(id: String, digest: String, size: Int)] = []
        while let row = try rows.next() {
            let id: String = row["id"]
            let text: String = row["file"]
            // POST /tasks accepts only valid base64; a row that is not is left without a module.
            guard let bytes = Data(base64Encoded: text) else { continue }
            let digest = ModuleDigest.of(bytes)
            try insertModule(db, digest: digest, bytes: bytes)
            moved.append((id, digest, bytes.count))
        }
        for task in moved {
            try db.execute(
                sql: "UPDATE tasks SET module_digest = ?, module_size_bytes = ?, file = NULL WHERE id = ?",
                arguments: [task.digest, task.size, task.id]
            )
        }
    }
}
