import Logging
import PostgresNIO
import PropellerCore

/// The truthful-state operations (`PropletStateStore`) on PostgreSQL, with the proplets' lock order:
/// a proplet's row before its tasks' rows.
extension PostgresStore {
    public func markPropletOffline(
        id: String,
        seenBefore: Timestamp?,
        at now: Timestamp
    ) async throws
        -> PropletUpdate?
    {
        let logger = self.logger
        return try await write("mark proplet offline") { connection in
            guard var proplet = try await Self.fetchProplet(connection, id: id, lock: "FOR UPDATE", logger: logger)
            else { return nil }
            if let seenBefore, proplet.lastSeen >= seenBefore { return nil }
            let wasAlive = proplet.alive
            proplet.alive = false
            try await Self.upsertProplet(connection, proplet, logger: logger)
            return PropletUpdate(proplet: proplet, wasAlive: wasAlive)
        }
    }

    public func forgetUnregisteredProplets(seenBefore deadline: Timestamp) async throws -> [String] {
        let logger = self.logger
        let before = deadline.microsecondsSinceEpoch
        return try await write("forget unregistered proplets") { connection in
            let rows = try await connection.query(
                """
                SELECT id FROM proplets WHERE metadata_json IS NULL AND last_seen_us < \(before)
                ORDER BY id COLLATE "C" FOR UPDATE SKIP LOCKED
                """,
                logger: logger
            )
            var ids: [String] = []
            for try await id in rows.decode(String.self) { ids.append(id) }
            for id in ids {
                try await connection.query("DELETE FROM proplet_samples WHERE proplet_id = \(id)", logger: logger)
                try await connection.query("DELETE FROM proplets WHERE id = \(id)", logger: logger)
                try await Self.deleteLedger(connection, id, logger: logger)
            }
            return ids
        }
    }

    public func reconcileTasks(
        propletID: String,
        reported: Set<String>,
        startedBefore: Timestamp,
        at now: Timestamp
    ) async throws -> TaskReconciliation {
        let logger = self.logger
        return try await write("reconcile tasks") { connection in
            var outcome = TaskReconciliation()
            // The proplet first (lock order), so a concurrent sweep or start on it waits for this.
            _ = try await Self.fetchProplet(connection, id: propletID, lock: "FOR UPDATE", logger: logger)
            for id in reported.sorted() {
                guard let task = try await Self.fetchTask(connection, id: id, lock: "FOR UPDATE", logger: logger),
                    task.propletID == propletID
                else {
                    outcome.strays.append(id)
                    continue
                }
                guard
                    let resumed = task.reconciled(
                        reportedBy: propletID,
                        reported: true,
                        startedBefore: startedBefore,
                        at: now
                    )
                else { continue }
                if try await Self.updateTask(connection, resumed, where: "state = 'failed'", logger: logger) {
                    outcome.resumed.append(resumed)
                }
            }
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(Self.taskColumnList) FROM tasks WHERE proplet_id = $1 AND state = 'running'
                        ORDER BY created_at_us, id COLLATE "C" FOR UPDATE
                        """,
                    binds: Self.binding(propletID)
                ),
                logger: logger
            )
            for task in try await Self.decodeAll(rows, PostgresRowCoding.task(from:)) where !reported.contains(task.id)
            {
                guard
                    let failed = task.reconciled(
                        reportedBy: propletID,
                        reported: false,
                        startedBefore: startedBefore,
                        at: now
                    )
                else { continue }
                if try await Self.updateTask(connection, failed, where: "state = 'running'", logger: logger) {
                    outcome.failed.append(failed)
                }
            }
            return outcome
        }
    }
}
