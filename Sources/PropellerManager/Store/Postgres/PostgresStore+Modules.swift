import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    public func moduleBytes(digest: String) async throws -> Data? {
        try await read("read module") { connection in
            let rows = try await connection.query(
                "SELECT bytes FROM modules WHERE digest = \(digest)",
                logger: self.logger
            )
            for try await bytes in rows.decode(Data.self) { return bytes }
            return nil
        }
    }

    public func moduleCount() async throws -> Int {
        try await read("count modules") { connection in
            try await Self.count(connection, "SELECT count(*) FROM modules", PostgresBindings(), logger: self.logger)
        }
    }

    /// Stores a module's bytes unless its digest is stored already (inside the caller's transaction).
    static func insertModule(
        _ connection: PostgresConnection,
        digest: String,
        bytes: Data,
        logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO modules (digest, size_bytes, bytes) VALUES (\(digest), \(Int64(bytes.count)), \(bytes))
            ON CONFLICT (digest) DO NOTHING
            """,
            logger: logger
        )
    }

    /// Deletes a module no task refers to any more (inside the caller's transaction).
    static func deleteModuleIfUnused(_ connection: PostgresConnection, digest: String, logger: Logger) async throws {
        try await connection.query(
            """
            DELETE FROM modules WHERE digest = \(digest)
            AND NOT EXISTS (SELECT 1 FROM tasks WHERE module_digest = \(digest))
            """,
            logger: logger
        )
    }

    /// Migration `v5-modules` (SQLite; `v6-modules` in PostgreSQL): a `modules` table holds each uploaded module once per digest, and tasks
    /// refer to it by `module_digest` (with `module_size_bytes`) instead of carrying the base64 text in
    /// `file`, so listing tasks never reads a module. Existing tasks' modules are moved over with
    /// PostgreSQL's own `decode(…, 'base64')` and `sha256`; `file` stays, always NULL.
    static let modulesMigration = [
        """
        CREATE TABLE modules (
            digest text PRIMARY KEY,
            size_bytes bigint NOT NULL,
            bytes bytea NOT NULL
        )
        """,
        "ALTER TABLE tasks ADD COLUMN module_digest text",
        "ALTER TABLE tasks ADD COLUMN module_size_bytes bigint",
        "CREATE INDEX tasks_by_module ON tasks (module_digest)",
        """
        INSERT INTO modules (digest, size_bytes, bytes)
        SELECT DISTINCT ON (digest) digest, length(bytes), bytes FROM (
            SELECT 'sha256:' || encode(sha256(decode(file, 'base64')), 'hex') AS digest,
                decode(file, 'base64') AS bytes
            FROM tasks WHERE file IS NOT NULL
        ) AS uploaded
        ON CONFLICT (digest) DO NOTHING
        """,
        """
        UPDATE tasks SET module_digest = 'sha256:' || encode(sha256(decode(file, 'base64')), 'hex'),
            module_size_bytes = length(decode(file, 'base64')), file = NULL
        WHERE file IS NOT NULL
        """,
    ]
}
