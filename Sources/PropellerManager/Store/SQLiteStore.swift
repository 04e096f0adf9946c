import GRDB
import Logging
import PropellerCore
import Synchronization

/// The durable `Store`: one SQLite file through GRDB (the manager's default, `MANAGER_DB_PATH`).
///
/// - The file is opened as a `DatabasePool` in WAL mode with `synchronous = NORMAL`: readers never
///   block the writer, and a committed transaction survives a crash of the process (a power loss may
///   lose the last transactions, never corrupt the file).
/// - The schema is built by append-only named migrations (`SQLiteStore.migrator`); never edit a
///   shipped migration, add a new one.
/// - Samples are typed columns in `WITHOUT ROWID` tables whose primary key is
///   (`task_id`, `timestamp_us`) — the unique index that pages, ranges and deduplicates
///   (`INSERT OR IGNORE`), and clusters each series on disk so a range is one contiguous scan.
/// - Every GRDB failure becomes `StoreError.database` with the operation that failed; client
///   situations (unknown id, duplicate id) are `notFound`/`conflict`, never database errors.
public final class SQLiteStore: Store {
    let database: any DatabaseWriter
    let logger: Logger
    /// Set by `close()`: GRDB treats any use of a closed connection as a programming error (a crash),
    /// so every operation checks this first.
    private let closed = Mutex(false)

    /// Opens (creating if needed, `0600` in a new `0700` directory) the database file at `path` and
    /// migrates it to the latest schema.
    ///
    /// Throws `StoreError.database` naming the path when the file cannot be opened or migrated.
    public init(path: String, logger: Logger) throws {
        self.logger = logger
        do {
            var configuration = Configuration()
            configuration.label = "propeller.store"
            configuration.busyMode = .timeout(5)
            configuration.prepareDatabase { db in
                // NORMAL: no fsync per commit in WAL mode (crash-safe, not power-loss-safe for the last
                // commits). A 32 MiB cache holds the hot leaf page of every series; checkpointing every
                // 10,000 pages (≈ 40 MiB of WAL) writes a page rewritten by consecutive batches once.
                try db.execute(
                    sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 10000"
                )
            }
            try Self.preparePrivateFile(path)
            let pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
            self.database = pool
        } catch {
            throw StoreError.database("cannot open the database at \(path): \(Self.reason(error))")
        }
        logger.info("store opened", metadata: ["store.path": "\(path)"])
    }

    /// A throwaway store in memory (a GRDB `DatabaseQueue`): the same SQL as the file store, nothing
    /// written to disk. Meant for tests and quick runs.
    public static func inMemory(logger: Logger) throws -> SQLiteStore {
        do {
            let queue = try DatabaseQueue()
            try migrator.migrate(queue)
            return SQLiteStore(database: queue, logger: logger)
        } catch {
            throw StoreError.database("cannot create an in-memory database: \(reason(error))")
        }
    }

    /// Checkpoints the WAL into the main file and closes the database. Later calls on this store fail with
    /// `StoreError.database`. Call it at shutdown, once no other call is in flight; releasing the
    /// store closes it too.
    public func close() throws {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        do {
            // Readers close last and read-only connections never checkpoint: fold the WAL back into
            // the main file now, so a closed database is one self-contained file.
            try database.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        } catch {
            logger.warning("store checkpoint failed", metadata: ["error": "\(Self.reason(error))"])
        }
        do {
            try database.close()
        } catch {
            throw StoreError.database("cannot close the database: \(Self.reason(error))")
        }
    }

    private init(database: any DatabaseWriter, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    // MARK: Running statements

    /// Runs `body` in a read transaction (a consistent snapshot), mapping failures.
    func read<T: Sendable>(
        _ operation: String,
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        try ensureOpen(operation)
        do {
            return try await database.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw failure(operation, error)
        }
    }

    /// Runs `body` in one write transaction (committed when it returns), mapping failures.
    func write<T: Sendable>(
        _ operation: String,
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        try ensureOpen(operation)
        do {
            return try await database.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw failure(operation, error)
        }
    }

    private func ensureOpen(_ operation: String) throws {
        if closed.withLock({ $0 }) { throw StoreError.database("\(operation) failed: the store is closed") }
    }

    /// Logs a database failure and turns it into `StoreError.database`.
    private func failure(_ operation: String, _ error: any Error) -> StoreError {
        let reason = Self.reason(error)
        logger.error("store operation failed", metadata: ["store.operation": "\(operation)", "error": "\(reason)"])
        return .database("\(operation) failed: \(reason)")
    }

    /// A one-line reason for a GRDB (or other) error.
    static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "\(error.message ?? "SQLite error") (SQLite code \(error.extendedResultCode.rawValue))"
        }
        return "\(error)"
    }
}
