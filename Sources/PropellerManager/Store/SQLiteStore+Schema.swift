import GRDB

extension SQLiteStore {
    /// The schema, as append-only named migrations. A shipped migration is never edited: a schema
    /// change is a new migration appended at the end.
    ///
    /// Times are INTEGER microseconds since the Unix epoch (`Timestamp`), so sample keys compare
    /// exactly. A metric the profile did not collect is NULL (never 0).
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-tasks-proplets-samples") { db in
            try db.execute(sql: tasksTable + propletsTable + taskSamplesTable + propletSamplesTable)
        }
        migrator.registerMigration("v2-task-limits") { db in
            // JSON of `TaskLimits`; NULL for tasks stored before limits existed (no limits).
            try db.execute(sql: "ALTER TABLE tasks ADD COLUMN limits_json TEXT")
        }
        migrator.registerMigration("v3-delivery-ledger") { db in
            try db.execute(sql: deliveryTables)
        }
        return migrator
    }

    /// Tasks: scalar fields as columns; inputs, env, cli_args and the profile as JSON text (never queried).
    private static let tasksTable = """
        CREATE TABLE tasks (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            file TEXT,
            image_url TEXT,
            inputs_json TEXT NOT NULL,
            env_json TEXT NOT NULL,
            cli_args_json TEXT NOT NULL,
            daemon INTEGER NOT NULL,
            profile_json TEXT NOT NULL,
            state TEXT NOT NULL,
            proplet_id TEXT,
            results TEXT,
            error TEXT,
            exit_code INTEGER,
            created_at_us INTEGER NOT NULL,
            updated_at_us INTEGER NOT NULL,
            started_at_us INTEGER,
            finished_at_us INTEGER
        );
        CREATE INDEX tasks_by_creation ON tasks (created_at_us, id);
        CREATE INDEX tasks_by_state ON tasks (state, created_at_us, id);
        CREATE INDEX tasks_by_proplet ON tasks (proplet_id, state);

        """

    private static let propletsTable = """
        CREATE TABLE proplets (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            alive INTEGER NOT NULL,
            last_seen_us INTEGER NOT NULL,
            running_tasks INTEGER NOT NULL,
            metadata_json TEXT
        );

        """

    /// Task samples: the 8 process metrics, then the sample's own `aggregated` (agg_*; all NULL when the
    /// sample carried none).
    private static let taskSamplesTable = """
        CREATE TABLE task_samples (
            task_id TEXT NOT NULL,
            timestamp_us INTEGER NOT NULL,
            proplet_id TEXT NOT NULL,
            cpu_percent REAL,
            memory_bytes INTEGER,
            memory_percent REAL,
            disk_read_bytes INTEGER,
            disk_write_bytes INTEGER,
            uptime_seconds INTEGER,
            thread_count INTEGER,
            fd_count INTEGER,
            agg_avg_cpu REAL,
            agg_max_cpu REAL,
            agg_avg_memory REAL,
            agg_max_memory INTEGER,
            agg_total_disk_read INTEGER,
            agg_total_disk_write INTEGER,
            agg_sample_count INTEGER,
            agg_p50_cpu REAL,
            agg_p95_cpu REAL,
            agg_p95_memory REAL,
            PRIMARY KEY (task_id, timestamp_us)
        ) WITHOUT ROWID;

        """

    private static let propletSamplesTable = """
        CREATE TABLE proplet_samples (
            proplet_id TEXT NOT NULL,
            timestamp_us INTEGER NOT NULL,
            cpu_percent REAL,
            memory_bytes INTEGER,
            memory_percent REAL,
            disk_read_bytes INTEGER,
            disk_write_bytes INTEGER,
            uptime_seconds INTEGER,
            thread_count INTEGER,
            fd_count INTEGER,
            host_cpu_percent REAL NOT NULL,
            host_memory_total_bytes INTEGER NOT NULL,
            host_memory_used_bytes INTEGER NOT NULL,
            host_load_1m REAL NOT NULL,
            running_tasks INTEGER NOT NULL,
            PRIMARY KEY (proplet_id, timestamp_us)
        ) WITHOUT ROWID;

        """
}
