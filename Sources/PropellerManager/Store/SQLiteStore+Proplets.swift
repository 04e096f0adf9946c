import GRDB
import PropellerCore

extension SQLiteStore {
    /// The columns of `proplets`, in the argument order of `TaskRowCoding.arguments(for:)`.
    static let propletColumns = "id, name, alive, last_seen_us, running_tasks, metadata_json"

    public func registerProplet(_ registration: PropletRegistration, at now: Timestamp) async throws -> PropletUpdate {
        try await write("register proplet") { db in
            let existing = try Self.fetchProplet(db, id: registration.propletID)
            let proplet = Proplet(
                id: registration.propletID,
                name: registration.name,
                alive: true,
                lastSeen: now,
                runningTasks: existing?.runningTasks ?? 0,
                metadata: registration.metadata
            )
            try Self.upsertProplet(db, proplet)
            return PropletUpdate(proplet: proplet, wasAlive: existing?.alive == true)
        }
    }

    public func recordHeartbeat(propletID: String, runningTasks: Int, at now: Timestamp) async throws -> PropletUpdate {
        try await write("record heartbeat") { db in
            let existing = try Self.fetchProplet(db, id: propletID)
            let proplet = Proplet(
                id: propletID,
                name: existing?.name ?? propletID,
                alive: true,
                lastSeen: now,
                runningTasks: runningTasks,
                metadata: existing?.metadata
            )
            try Self.upsertProplet(db, proplet)
            return PropletUpdate(proplet: proplet, wasAlive: existing?.alive == true)
        }
    }

    public func markPropletLost(id: String, at now: Timestamp) async throws -> PropletLoss? {
        try await write("mark proplet lost") { db in
            guard let proplet = try Self.fetchProplet(db, id: id) else { return nil }
            return try Self.markLost(db, proplet, at: now)
        }
    }

    public func markSilentPropletsLost(
        seenBefore deadline: Timestamp,
        at now: Timestamp
    ) async throws
        -> [PropletLoss]
    {
        try await write("mark silent proplets lost") { db in
            let silent = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.propletColumns) FROM proplets
                    WHERE (alive OR EXISTS (SELECT 1 FROM tasks WHERE proplet_id = proplets.id AND state = 'running'))
                        AND last_seen_us < ?
                    ORDER BY id
                    """,
                arguments: [deadline.microsecondsSinceEpoch]
            ).map(TaskRowCoding.proplet(from:))
            return try silent.map { try Self.markLost(db, $0, at: now) }
        }
    }

    public func proplet(id: String) async throws -> Proplet? {
        try await read("read proplet") { db in try Self.fetchProplet(db, id: id) }
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

    public func liveProplets() async throws -> [Proplet] {
        try await read("list live proplets") { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.propletColumns) FROM proplets WHERE alive ORDER BY id")
                .map(TaskRowCoding.proplet(from:))
        }
    }

    public func deleteProplet(id: String) async throws -> PropletDeletion {
        try await write("delete proplet") { db in
            guard let proplet = try Self.fetchProplet(db, id: id) else { return .notFound }
            let running =
                try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM tasks WHERE proplet_id = ? AND state = 'running'",
                    arguments: [id]
                ) ?? 0
            guard running == 0, !proplet.alive || proplet.runningTasks == 0 else {
                return .busy(runningTasks: max(running, proplet.runningTasks))
            }
            try db.execute(sql: "DELETE FROM proplet_samples WHERE proplet_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM proplets WHERE id = ?", arguments: [id])
            try Self.deleteLedger(db, id)
            return .deleted
        }
    }

    // MARK: Statements shared by the operations (inside the caller's transaction)

    static func fetchProplet(_ db: Database, id: String) throws -> Proplet? {
        try Row.fetchOne(db, sql: "SELECT \(propletColumns) FROM proplets WHERE id = ?", arguments: [id])
            .map(TaskRowCoding.proplet(from:))
    }

    static func upsertProplet(_ db: Database, _ proplet: Proplet) throws {
        try db.execute(
            sql: """
                INSERT INTO proplets (\(propletColumns)) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, alive = excluded.alive,
                    last_seen_us = excluded.last_seen_us, running_tasks = excluded.running_tasks,
                    metadata_json = excluded.metadata_json
                """,
            arguments: try TaskRowCoding.arguments(for: proplet)
        )
    }

    private static func markLost(_ db: Database, _ proplet: Proplet, at now: Timestamp) throws -> PropletLoss {
        var lost = proplet
        lost.alive = false
        lost.runningTasks = 0
        try upsertProplet(db, lost)
        let failed = try fetchRunningTasks(db, propletID: proplet.id).map { $0.lost(at: now) }
        for task in failed { try updateTask(db, task, where: "state = 'running'", []) }
        return PropletLoss(proplet: lost, wasAlive: proplet.alive, failedTasks: failed)
    }
}
