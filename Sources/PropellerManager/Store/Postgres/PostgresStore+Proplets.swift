import Logging
import PostgresNIO
import PropellerCore

/// Proplet operations. Lock order, everywhere: a proplet's row before its tasks' rows (a start locks
/// its task first, but only a task that is not running, which no proplet operation updates), so
/// concurrent managers never deadlock; a deadlock or serialization failure would be retried anyway.
extension PostgresStore {
    public func registerProplet(_ registration: PropletRegistration, at now: Timestamp) async throws -> PropletUpdate {
        let logger = self.logger
        return try await write("register proplet") { connection in
            let existing = try await Self.fetchProplet(
                connection,
                id: registration.propletID,
                lock: "FOR UPDATE",
                logger: logger
            )
            let proplet = Proplet(
                id: registration.propletID,
                name: registration.name,
                alive: true,
                lastSeen: now,
                runningTasks: existing?.runningTasks ?? 0,
                metadata: registration.metadata
            )
            try await Self.upsertProplet(connection, proplet, logger: logger)
            return PropletUpdate(proplet: proplet, wasAlive: existing?.alive == true)
        }
    }

    public func recordHeartbeat(propletID: String, runningTasks: Int, at now: Timestamp) async throws -> PropletUpdate {
        let logger = self.logger
        return try await write("record heartbeat") { connection in
            let existing = try await Self.fetchProplet(connection, id: propletID, lock: "FOR UPDATE", logger: logger)
            let proplet = Proplet(
                id: propletID,
                name: existing?.name ?? propletID,
                alive: true,
                lastSeen: now,
                runningTasks: runningTasks,
                metadata: existing?.metadata
            )
            try await Self.upsertProplet(connection, proplet, logger: logger)
            return PropletUpdate(proplet: proplet, wasAlive: existing?.alive == true)
        }
    }

    public func markPropletLost(id: String, at now: Timestamp) async throws -> PropletLoss? {
        let logger = self.logger
        return try await write("mark proplet lost") { connection in
            guard let proplet = try await Self.fetchProplet(connection, id: id, lock: "FOR UPDATE", logger: logger)
            else { return nil }
            return try await Self.markLost(connection, proplet, at: now, logger: logger)
        }
    }

    /// `SKIP LOCKED`: a proplet another manager is marking lost, or whose heartbeat is being recorded
    /// right now, is left to that transaction, so two managers' sweeps never fail the same tasks twice
    /// and never wait for each other.
    public func markSilentPropletsLost(
        seenBefore deadline: Timestamp,
        at now: Timestamp
    ) async throws
        -> [PropletLoss]
    {
        let logger = self.logger
        return try await write("mark silent proplets lost") { connection in
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(deadline.microsecondsSinceEpoch)
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(Self.propletColumnList) FROM proplets
                        WHERE (alive OR EXISTS (
                            SELECT 1 FROM tasks WHERE tasks.proplet_id = proplets.id AND tasks.state = 'running'
                        )) AND last_seen_us < $1
                        ORDER BY id COLLATE "C" FOR UPDATE SKIP LOCKED
                        """,
                    binds: bindings
                ),
                logger: logger
            )
            var losses: [PropletLoss] = []
            for proplet in try await Self.decodeAll(rows, PostgresRowCoding.proplet(from:)) {
                losses.append(try await Self.markLost(connection, proplet, at: now, logger: logger))
            }
            return losses
        }
    }

    public func proplet(id: String) async throws -> Proplet? {
        try await read("read proplet") { connection in
            try await Self.fetchProplet(connection, id: id, lock: "", logger: self.logger)
        }
    }

    public func proplets(page: Page) async throws -> PageResult<Proplet> {
        let (limit, offset) = PostgresSeriesQuery.bounds(page)
        let logger = self.logger
        return try await read("list proplets") { connection in
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(limit)
            bindings.append(offset)
            var total: Int?
            var items: [Proplet] = []
            if limit > 0 {
                let rows = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT (SELECT count(*) FROM proplets) AS total, \(Self.propletColumnList) FROM proplets
                            ORDER BY id COLLATE "C" LIMIT $1 OFFSET $2
                            """,
                        binds: bindings
                    ),
                    logger: logger
                )
                for try await row in rows {
                    let row = row.makeRandomAccess()
                    total = Int(try row["total"].decode(Int64.self))
                    items.append(try PostgresRowCoding.proplet(from: row))
                }
            }
            if total == nil {
                total = try await Self.count(
                    connection,
                    "SELECT count(*) FROM proplets",
                    PostgresBindings(),
                    logger: logger
                )
            }
            return PageResult(items: items, total: total ?? 0)
        }
    }

    public func liveProplets() async throws -> [Proplet] {
        try await read("list live proplets") { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.propletColumnList) FROM proplets WHERE alive ORDER BY id COLLATE \"C\""
                ),
                logger: self.logger
            )
            return try await Self.decodeAll(rows, PostgresRowCoding.proplet(from:))
        }
    }

    /// Locks the proplet (a concurrent start on it holds a share lock: this waits for it and then sees
    /// its running task), counts its running tasks, and deletes it and its samples when it is idle.
    public func deleteProplet(id: String) async throws -> PropletDeletion {
        let logger = self.logger
        return try await write("delete proplet") { connection in
            guard let proplet = try await Self.fetchProplet(connection, id: id, lock: "FOR UPDATE", logger: logger)
            else { return .notFound }
            let running = try await Self.count(
                connection,
                "SELECT count(*) FROM tasks WHERE proplet_id = $1 AND state = 'running'",
                Self.binding(id),
                logger: logger
            )
            guard running == 0, !proplet.alive || proplet.runningTasks == 0 else {
                return .busy(runningTasks: max(running, proplet.runningTasks))
            }
            try await connection.query("DELETE FROM proplet_samples WHERE proplet_id = \(id)", logger: logger)
            try await connection.query("DELETE FROM proplets WHERE id = \(id)", logger: logger)
            try await Self.deleteLedger(connection, id, logger: logger)
            return .deleted
        }
    }

    // MARK: Statements shared by the operations (inside the caller's transaction)

    /// The proplet, optionally with a row lock (`lock`: "", "FOR UPDATE", "FOR SHARE").
    static func fetchProplet(
        _ connection: PostgresConnection,
        id: String,
        lock: String,
        logger: Logger
    ) async throws -> Proplet? {
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(propletColumnList) FROM proplets WHERE id = $1 \(lock)",
                binds: binding(id)
            ),
            logger: logger
        )
        return try await decodeAll(rows, PostgresRowCoding.proplet(from:)).first
    }

    static func upsertProplet(_ connection: PostgresConnection, _ proplet: Proplet, logger: Logger) async throws {
        let bindings = try PostgresRowCoding.bindings(for: proplet)
        let sql = """
            INSERT INTO proplets (\(propletColumnList)) VALUES (\(parameters(bindings.count)))
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, alive = EXCLUDED.alive,
                last_seen_us = EXCLUDED.last_seen_us, running_tasks = EXCLUDED.running_tasks,
                metadata_json = EXCLUDED.metadata_json
            """
        try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
    }

    /// Marks `proplet` (locked by the caller) not alive and fails its running tasks, oldest first.
    private static func markLost(
        _ connection: PostgresConnection,
        _ proplet: Proplet,
        at now: Timestamp,
        logger: Logger
    ) async throws -> PropletLoss {
        var lost = proplet
        lost.alive = false
        lost.runningTasks = 0
        try await upsertProplet(connection, lost, logger: logger)
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(taskColumnList) FROM tasks WHERE proplet_id = $1 AND state = 'running'
                    ORDER BY created_at_us, id COLLATE "C" FOR UPDATE
                    """,
                binds: binding(proplet.id)
            ),
            logger: logger
        )
        var failed: [WasmTask] = []
        for task in try await decodeAll(rows, PostgresRowCoding.task(from:)).map({ $0.lost(at: now) }) {
            if try await updateTask(connection, task, where: "state = 'running'", logger: logger) {
                failed.append(task)
            }
        }
        return PropletLoss(proplet: lost, wasAlive: proplet.alive, failedTasks: failed)
    }
}
