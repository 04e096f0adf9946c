import Logging
import PostgresNIO

extension PostgresStore {
    /// One schema change, applied once per database and recorded by name in `propeller_migrations`.
    struct Migration: Sendable {
        var name: String
        var statements: [String]
    }

    /// The schema, as append-only named migrations. A shipped migration is never edited: a schema change
    /// is a new migration appended at the end.
    ///
    /// Types: times are `bigint` microseconds since the Unix epoch (`Timestamp`, exact like the SQLite
    /// store, so sample keys compare exactly); metrics are `double precision` and `bigint`; a metric the
    /// profile did not collect is NULL (never 0). Lists and objects that are never queried (inputs, env,
    /// cli_args, the profile, proplet metadata) are JSON text, written and read by the same coding as
    /// SQLite's.
    static let migrations: [Migration] = [
        Migration(
            name: "v1-tasks-proplets-samples",
            statements: [
                tasksTable, tasksByCreation, tasksByState, tasksByProplet, propletsTable, taskSamplesTable,
                propletSamplesTable,
            ]
        ),
        // An index-only scan for the aggregate: PostgreSQL's heap is not clustered by the key, so a
        // task's samples, written interleaved with every other task's, sit on as many heap pages as
        // there are samples; the covering index holds what the aggregate reads (≈10× faster at 1,000
        // samples per task). Costs one more index update per insert.
        Migration(
            name: "v2-task-samples-aggregate-index",
            statements: [
                """
                CREATE INDEX task_samples_aggregate ON task_samples (task_id, timestamp_us)
                    INCLUDE (cpu_percent, memory_bytes, disk_read_bytes, disk_write_bytes)
                """
            ]
        ),
        // JSON of `TaskLimits`; NULL for tasks stored before limits existed (no limits).
        Migration(name: "v3-task-limits", statements: ["ALTER TABLE tasks ADD COLUMN limits_json text"]),
        // The delivery ledger (`DeliveryStore`, docs/architecture.md "Delivery"): one row per proplet,
        // locked by every ledger operation, and the committed `seq`s above its mark.
        Migration(
            name: "v4-delivery-ledger",
            statements: [
                "CREATE TABLE delivery_marks (proplet_id text PRIMARY KEY, next_seq bigint, epoch text)",
                "CREATE TABLE delivery_seqs (proplet_id text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (proplet_id, seq))",
            ]
        ),
        // JSON object of the task's labels; NULL without labels (and for tasks stored before them).
        Migration(name: "v5-task-labels", statements: ["ALTER TABLE tasks ADD COLUMN labels_json text"]),
        Migration(name: "v6-modules", statements: modulesMigration),
        // One index on task samples instead of two: the primary key and the covering aggregate index had
        // the same key, so every insert updated two B-trees (and logged both). A unique index with the
        // aggregate's INCLUDE columns serves deduplication (`ON CONFLICT DO NOTHING`), paging and the
        // index-only aggregate; ingestion into PostgreSQL spent more CPU in the server than in the
        // manager (docs/benchmarks.md). Rebuilding the index reads the table once at start-up.
        Migration(
            name: "v7-task-samples-one-index",
            statements: [
                """
                CREATE UNIQUE INDEX task_samples_key ON task_samples (task_id, timestamp_us)
                    INCLUDE (cpu_percent, memory_bytes, disk_read_bytes, disk_write_bytes)
                """,
                "ALTER TABLE task_samples DROP CONSTRAINT task_samples_pkey",
                "DROP INDEX task_samples_aggregate",
            ]
        ),
    ]

    /// Creates the migrations table and applies every migration not yet recorded, each in its own
    /// transaction under a transaction-scoped advisory lock, so managers that start at the same time
    /// apply each migration exactly once. Waits up to `timeout` for the database to accept connections.
    ///
    /// Nothing here waits past `timeout`: every migration transaction carries `lock_timeout` and
    /// `statement_timeout` set to the time left, so a start-up stuck behind another session (one that
    /// holds the migration lock, or a table lock an `ALTER TABLE` needs) retries and then fails naming
    /// the lock, instead of hanging the manager (or a test) forever.
    func migrate(
        url: DatabaseURL,
        connection configuration: PostgresConnection.Configuration,
        timeout: Duration
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        var delay = Duration.milliseconds(100)
        while true {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration,
                    id: 0,
                    logger: logger
                )
                do {
                    try await applyMigrations(connection, deadline: deadline)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
                return
            } catch {
                let failure = Self.classify(error)
                guard case .notCommitted(let reason) = failure else {
                    throw StoreError.database("cannot open the database at \(url): \(Self.reason(error))")
                }
                guard ContinuousClock.now + delay < deadline else {
                    if Self.isLockTimeout(error) {
                        throw StoreError.unavailable(
                            "cannot migrate the database at \(url) within \(timeout): another session holds "
                                + "Propeller's migration lock (pg_advisory_xact_lock(\(Self.migrationLock))) "
                                + "or a table lock a migration needs (\(reason))"
                        )
                    }
                    throw StoreError.unavailable("cannot reach the database at \(url): \(reason)")
                }
                logger.warning(
                    "database not reachable yet; retrying",
                    metadata: ["store.url": "\(url)", "error": "\(reason)"]
                )
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    /// The advisory lock key that serialises migrations (any constant; Propeller's own).
    static let migrationLock = 7_170_770_001

    /// The advisory lock key migrations hold (`pg_advisory_xact_lock`); public for monitoring and tests.
    public static var migrationLockKey: Int { migrationLock }

    /// Whether `error` is a lock wait or a statement ended by the timeouts `applyMigrations` sets.
    static func isLockTimeout(_ error: any Error) -> Bool {
        guard let state = (error as? PSQLError)?.serverInfo?[.sqlState] else { return false }
        return state == "55P03" || state == "57014"
    }

    private func applyMigrations(_ connection: PostgresConnection, deadline: ContinuousClock.Instant) async throws {
        let logger = self.logger
        do {
            for migration in Self.migrations {
                let milliseconds = max(1, Int((deadline - ContinuousClock.now) / .milliseconds(1)))
                try await Self.transaction(connection, logger: logger) { connection in
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "SET LOCAL lock_timeout = \(milliseconds)"),
                        logger: logger
                    )
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "SET LOCAL statement_timeout = \(milliseconds)"),
                        logger: logger
                    )
                    // Held until this transaction ends. The row is read, so that a lock timeout is
                    // thrown here (an unread result would hide it and fail the next statement instead).
                    _ = try await connection.query(
                        PostgresQuery(unsafeSQL: "SELECT pg_advisory_xact_lock(\(Self.migrationLock))"),
                        logger: logger
                    ).collect()
                    try await connection.query(
                        """
                        CREATE TABLE IF NOT EXISTS propeller_migrations (
                            name text PRIMARY KEY,
                            applied_at timestamptz NOT NULL DEFAULT now()
                        )
                        """,
                        logger: logger
                    )
                    let done = try await connection.query(
                        "SELECT 1 FROM propeller_migrations WHERE name = \(migration.name)",
                        logger: logger
                    ).collect()
                    guard done.isEmpty else { return }
                    for statement in migration.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query(
                        "INSERT INTO propeller_migrations (name) VALUES (\(migration.name))",
                        logger: logger
                    )
                    logger.info("database migrated", metadata: ["store.migration": "\(migration.name)"])
                }
            }
        }
    }

    private static let tasksTable = """
        CREATE TABLE tasks (
            id text PRIMARY KEY,
            name text NOT NULL,
            file text,
            image_url text,
            inputs_json text NOT NULL,
            env_json text NOT NULL,
            cli_args_json text NOT NULL,
            daemon boolean NOT NULL,
            profile_json text NOT NULL,
            state text NOT NULL,
            proplet_id text,
            results text,
            error text,
            exit_code bigint,
            created_at_us bigint NOT NULL,
            updated_at_us bigint NOT NULL,
            started_at_us bigint,
            finished_at_us bigint
        )
        """
    private static let tasksByCreation = "CREATE INDEX tasks_by_creation ON tasks (created_at_us, id)"
    private static let tasksByState = "CREATE INDEX tasks_by_state ON tasks (state, created_at_us, id)"
    private static let tasksByProplet = "CREATE INDEX tasks_by_proplet ON tasks (proplet_id, state)"

    private static let propletsTable = """
        CREATE TABLE proplets (
            id text PRIMARY KEY,
            name text NOT NULL,
            alive boolean NOT NULL,
            last_seen_us bigint NOT NULL,
            running_tasks bigint NOT NULL,
            metadata_json text
        )
        """

    /// Task samples: the 8 process metrics, then the sample's own `aggregated` (agg_*; all NULL when the
    /// sample carried none). The primary key is the (task_id, timestamp) index.
    private static let taskSamplesTable = """
        CREATE TABLE task_samples (
            task_id text NOT NULL,
            timestamp_us bigint NOT NULL,
            proplet_id text NOT NULL,
            cpu_percent double precision,
            memory_bytes bigint,
            memory_percent double precision,
            disk_read_bytes bigint,
            disk_write_bytes bigint,
            uptime_seconds bigint,
            thread_count bigint,
            fd_count bigint,
            agg_avg_cpu double precision,
            agg_max_cpu double precision,
            agg_avg_memory double precision,
            agg_max_memory bigint,
            agg_total_disk_read bigint,
            agg_total_disk_write bigint,
            agg_sample_count bigint,
            agg_p50_cpu double precision,
            agg_p95_cpu double precision,
            agg_p95_memory double precision,
            PRIMARY KEY (task_id, timestamp_us)
        )
        """

    private static let propletSamplesTable = """
        CREATE TABLE proplet_samples (
            proplet_id text NOT NULL,
            timestamp_us bigint NOT NULL,
            cpu_percent double precision,
            memory_bytes bigint,
            memory_percent double precision,
            disk_read_bytes bigint,
            disk_write_bytes bigint,
            uptime_seconds bigint,
            thread_count bigint,
            fd_count bigint,
            host_cpu_percent double precision NOT NULL,
            host_memory_total_bytes bigint NOT NULL,
            host_memory_used_bytes bigint NOT NULL,
            host_load_1m double precision NOT NULL,
            running_tasks bigint NOT NULL,
            PRIMARY KEY (proplet_id, timestamp_us)
        )
        """
}
