import GRDB
import PropellerCore

extension SQLiteStore {
    public func markPropletOffline(
        id: String,
        seenBefore: Timestamp?,
        at now: Timestamp
    ) async throws
        -> PropletUpdate?
    {
        try await write("mark proplet offline") { db in
            guard var proplet = try Self.fetchProplet(db, id: id) else { return nil }
            if let seenBefore, proplet.lastSeen >= seenBefore { return nil }
            let wasAlive = proplet.alive
            proplet.alive = false
            try Self.upsertProplet(db, proplet)
            return PropletUpdate(proplet: proplet, wasAlive: wasAlive)
        }
    }

    public func forgetUnregisteredProplets(seenBefore deadline: Timestamp) async throws -> [String] {
        try await write("forget unregistered proplets") { db in
            let ids = try String.fetchAll(
                db,
                sql: "SELECT id FROM proplets WHERE metadata_json IS NULL AND last_seen_us < ? ORDER BY id",
                arguments: [deadline.microsecondsSinceEpoch]
            )
            for id in ids {
                try db.execute(sql: "DELETE FROM proplet_samples WHERE proplet_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM proplets WHERE id = ?", arguments: [id])
                try Self.deleteLedger(db, id)
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
        try await write("reconcile tasks") { db in
            var outcome = TaskReconciliation()
            for id in reported.sorted() {
                guard let task = try Self.fetchTask(db, id: id), task.propletID == propletID else {
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
                try Self.updateTask(db, resumed, where: "updated_at_us = ?", [task.updatedAt.microsecondsSinceEpoch])
                outcome.resumed.append(resumed)
            }
            for task in try Self.fetchRunningTasks(db, propletID: propletID) where !reported.contains(task.id) {
                guard
                    let failed = task.reconciled(
                        reportedBy: propletID,
                        reported: false,
                        startedBefore: startedBefore,
                        at: now
                    )
                else { continue }
                try Self.updateTask(db, failed, where: "state = 'running'", [])
                outcome.failed.append(failed)
            }
            return outcome
        }
    }
}
