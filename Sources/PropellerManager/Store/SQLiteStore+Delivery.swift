import GRDB
import PropellerCore

extension SQLiteStore {
    /// The delivery ledger (`DeliveryStore`): per proplet the next uncommitted `seq` (NULL until the
    /// proplet said where its journal starts) and the journal's epoch, and the committed `seq`s above it
    /// (few: those that arrived out of order or before the mark was known).
    static let deliveryTables = """
        CREATE TABLE delivery_marks (
            proplet_id TEXT PRIMARY KEY NOT NULL,
            next_seq INTEGER,
            epoch TEXT
        );
        CREATE TABLE delivery_seqs (
            proplet_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (proplet_id, seq)
        ) WITHOUT ROWID;

        """

    public func committedSeqs(propletID: String, among seqs: [UInt64]) async throws -> Set<UInt64> {
        guard !seqs.isEmpty else { return [] }
        return try await read("read delivery ledger") { db in
            let next = try Self.mark(db, propletID)?.next
            var committed: Set<UInt64> = []
            for seq in seqs {
                if let next, seq < next {
                    committed.insert(seq)
                } else if try Bool.fetchOne(
                    db,
                    sql: "SELECT 1 FROM delivery_seqs WHERE proplet_id = ? AND seq = ?",
                    arguments: [propletID, Int64(clamping: seq)]
                ) != nil {
                    committed.insert(seq)
                }
            }
            return committed
        }
    }

    public func commitSeqs(_ seqs: [String: [UInt64]]) async throws -> [String: DeliveryProgress] {
        let work = seqs.filter { !$0.value.isEmpty }
        guard !work.isEmpty else { return [:] }
        return try await write("commit delivered seqs") { db in
            var result: [String: DeliveryProgress] = [:]
            for (propletID, numbers) in work {
                let existing = try Self.mark(db, propletID)
                // A proplet that has not said where its journal starts: from its lowest seq seen.
                let start = existing?.next ?? numbers.min()!
                var duplicates = 0
                for seq in numbers {
                    if seq < start {
                        duplicates += 1
                        continue
                    }
                    try db.execute(
                        sql: "INSERT OR IGNORE INTO delivery_seqs (proplet_id, seq) VALUES (?, ?)",
                        arguments: [propletID, Int64(clamping: seq)]
                    )
                    if db.changesCount == 0 { duplicates += 1 }
                }
                let next = try Self.settle(db, propletID, from: start)
                try Self.saveMark(db, propletID, next: next, epoch: existing?.epoch)
                result[propletID] = DeliveryProgress(next: next, duplicates: duplicates)
            }
            return result
        }
    }

    public func reconcileDelivery(propletID: String, cursor: DeliveryCursor) async throws -> DeliveryProgress {
        try await write("reconcile delivery ledger") { db in
            var existing = try Self.mark(db, propletID)
            if let epoch = existing?.epoch, epoch != cursor.epoch {
                try db.execute(sql: "DELETE FROM delivery_seqs WHERE proplet_id = ?", arguments: [propletID])
                existing = nil
            }
            var lost: UInt64 = 0
            var start = cursor.oldestSeq
            if let next = existing?.next {
                start = max(next, cursor.oldestSeq)
                if cursor.oldestSeq > next {
                    let committed =
                        try Int.fetchOne(
                            db,
                            sql: "SELECT COUNT(*) FROM delivery_seqs WHERE proplet_id = ? AND seq >= ? AND seq < ?",
                            arguments: [propletID, Int64(clamping: next), Int64(clamping: cursor.oldestSeq)]
                        ) ?? 0
                    lost = cursor.oldestSeq - next - UInt64(committed)
                }
            }
            let next = try Self.settle(db, propletID, from: start)
            try Self.saveMark(db, propletID, next: next, epoch: cursor.epoch)
            return DeliveryProgress(next: next, lost: lost)
        }
    }

    public func ackedSeq(propletID: String) async throws -> UInt64? {
        try await read("read delivery ledger") { db in
            DeliveryProgress(next: try Self.mark(db, propletID)?.next).ackedSeq
        }
    }

    public func forgetDelivery(propletID: String) async throws {
        try await write("forget delivery ledger") { db in try Self.deleteLedger(db, propletID) }
    }

    static func deleteLedger(_ db: Database, _ propletID: String) throws {
        try db.execute(sql: "DELETE FROM delivery_seqs WHERE proplet_id = ?", arguments: [propletID])
        try db.execute(sql: "DELETE FROM delivery_marks WHERE proplet_id = ?", arguments: [propletID])
    }

    private static func mark(_ db: Database, _ propletID: String) throws -> (next: UInt64?, epoch: String?)? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: "SELECT next_seq, epoch FROM delivery_marks WHERE proplet_id = ?",
                arguments: [propletID]
            )
        else { return nil }
        let next: Int64? = row["next_seq"]
        return (next.map { UInt64(max(0, $0)) }, row["epoch"])
    }

    private static func saveMark(_ db: Database, _ propletID: String, next: UInt64?, epoch: String?) throws {
        try db.execute(
            sql: """
                INSERT INTO delivery_marks (proplet_id, next_seq, epoch) VALUES (?, ?, ?)
                ON CONFLICT (proplet_id) DO UPDATE SET next_seq = excluded.next_seq, epoch = excluded.epoch
                """,
            arguments: [propletID, next.map { Int64(clamping: $0) }, epoch]
        )
    }

    /// Moves the mark from `start` over the contiguous committed `seq`s and deletes those below it.
    private static func settle(_ db: Database, _ propletID: String, from start: UInt64) throws -> UInt64 {
        var next = start
        let above = try Int64.fetchAll(
            db,
            sql: "SELECT seq FROM delivery_seqs WHERE proplet_id = ? AND seq >= ? ORDER BY seq",
            arguments: [propletID, Int64(clamping: start)]
        )
        for seq in above {
            guard UInt64(seq) == next else { break }
            next += 1
        }
        try db.execute(
            sql: "DELETE FROM delivery_seqs WHERE proplet_id = ? AND seq < ?",
            arguments: [propletID, Int64(clamping: next)]
        )
        return next
    }
}
