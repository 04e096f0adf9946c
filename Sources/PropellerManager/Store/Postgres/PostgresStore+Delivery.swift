import Logging
import PostgresNIO
import PropellerCore

/// The delivery ledger on PostgreSQL. Every operation is one transaction that first makes sure the
/// proplet's `delivery_marks` row exists and then locks it (`FOR UPDATE`): two managers committing
/// parts of one proplet's messages queue up on that row, and the later one sees the earlier one's
/// `seq`s, so the mark it acknowledges covers only committed messages — its own and the other
/// manager's. Proplets are locked in byte order of their ids, so two managers never deadlock.
extension PostgresStore {
    public func committedSeqs(propletID: String, among seqs: [UInt64]) async throws -> Set<UInt64> {
        guard !seqs.isEmpty else { return [] }
        let logger = self.logger
        let numbers = seqs.map { Int64(clamping: $0) }
        return try await read("read delivery ledger") { connection in
            let rows = try await connection.query(
                """
                SELECT s.seq FROM unnest(\(numbers)::bigint[]) AS s(seq)
                WHERE s.seq < COALESCE((SELECT next_seq FROM delivery_marks WHERE proplet_id = \(propletID)), 0)
                   OR EXISTS (SELECT 1 FROM delivery_seqs d WHERE d.proplet_id = \(propletID) AND d.seq = s.seq)
                """,
                logger: logger
            )
            var committed: Set<UInt64> = []
            for try await seq in rows.decode(Int64.self) { committed.insert(UInt64(max(0, seq))) }
            return committed
        }
    }

    public func commitSeqs(_ seqs: [String: [UInt64]]) async throws -> [String: DeliveryProgress] {
        let work = seqs.filter { !$0.value.isEmpty }.sorted {
            Array($0.key.utf8).lexicographicallyPrecedes($1.key.utf8)
        }
        guard !work.isEmpty else { return [:] }
        let logger = self.logger
        return try await write("commit delivered seqs") { connection in
            var result: [String: DeliveryProgress] = [:]
            for (propletID, numbers) in work {
                let mark = try await Self.lockMark(connection, propletID, logger: logger)
                // A proplet that has not said where its journal starts: from its lowest seq seen.
                let start = mark.next ?? numbers.min()!
                let fresh = numbers.filter { $0 >= start }.map { Int64(clamping: $0) }
                var inserted = 0
                if !fresh.isEmpty {
                    inserted = try await Self.rowCount(
                        connection.query(
                            """
                            INSERT INTO delivery_seqs (proplet_id, seq)
                            SELECT DISTINCT \(propletID), s FROM unnest(\(fresh)::bigint[]) AS s
                            ON CONFLICT DO NOTHING RETURNING 1
                            """,
                            logger: logger
                        )
                    )
                }
                let next = try await Self.settle(connection, propletID, from: start, logger: logger)
                try await Self.saveMark(connection, propletID, next: next, epoch: mark.epoch, logger: logger)
                result[propletID] = DeliveryProgress(next: next, duplicates: numbers.count - inserted)
            }
            return result
        }
    }

    public func reconcileDelivery(propletID: String, cursor: DeliveryCursor) async throws -> DeliveryProgress {
        let logger = self.logger
        return try await write("reconcile delivery ledger") { connection in
            var mark = try await Self.lockMark(connection, propletID, logger: logger)
            if let epoch = mark.epoch, epoch != cursor.epoch {
                try await connection.query("DELETE FROM delivery_seqs WHERE proplet_id = \(propletID)", logger: logger)
                mark = (nil, nil)
            }
            var lost: UInt64 = 0
            var start = cursor.oldestSeq
            if let next = mark.next {
                start = max(next, cursor.oldestSeq)
                if cursor.oldestSeq > next {
                    let committed = try await Self.count(
                        connection,
                        "SELECT count(*) FROM delivery_seqs WHERE proplet_id = $1 AND seq >= $2 AND seq < $3",
                        Self.bindings(propletID, Int64(clamping: next), Int64(clamping: cursor.oldestSeq)),
                        logger: logger
                    )
                    lost = cursor.oldestSeq - next - UInt64(committed)
                }
            }
            let next = try await Self.settle(connection, propletID, from: start, logger: logger)
            try await Self.saveMark(connection, propletID, next: next, epoch: cursor.epoch, logger: logger)
            return DeliveryProgress(next: next, lost: lost)
        }
    }

    public func ackedSeq(propletID: String) async throws -> UInt64? {
        let logger = self.logger
        return try await read("read delivery ledger") { connection in
            let rows = try await connection.query(
                "SELECT next_seq FROM delivery_marks WHERE proplet_id = \(propletID)",
                logger: logger
            )
            var next: UInt64?
            for try await value in rows.decode(Int64?.self) { next = value.map { UInt64(max(0, $0)) } }
            return DeliveryProgress(next: next).ackedSeq
        }
    }

    public func forgetDelivery(propletID: String) async throws {
        let logger = self.logger
        try await write("forget delivery ledger") { connection in
            try await Self.deleteLedger(connection, propletID, logger: logger)
        }
    }

    static func deleteLedger(_ connection: PostgresConnection, _ propletID: String, logger: Logger) async throws {
        try await connection.query("DELETE FROM delivery_seqs WHERE proplet_id = \(propletID)", logger: logger)
        try await connection.query("DELETE FROM delivery_marks WHERE proplet_id = \(propletID)", logger: logger)
    }

    /// Creates the proplet's mark row when missing and locks it for the rest of the transaction.
    private static func lockMark(
        _ connection: PostgresConnection,
        _ propletID: String,
        logger: Logger
    ) async throws -> (next: UInt64?, epoch: String?) {
        try await connection.query(
            "INSERT INTO delivery_marks (proplet_id) VALUES (\(propletID)) ON CONFLICT DO NOTHING",
            logger: logger
        )
        let rows = try await connection.query(
            "SELECT next_seq, epoch FROM delivery_marks WHERE proplet_id = \(propletID) FOR UPDATE",
            logger: logger
        )
        var mark: (next: UInt64?, epoch: String?) = (nil, nil)
        for try await (next, epoch) in rows.decode((Int64?, String?).self) {
            mark = (next.map { UInt64(max(0, $0)) }, epoch)
        }
        return mark
    }

    private static func saveMark(
        _ connection: PostgresConnection,
        _ propletID: String,
        next: UInt64?,
        epoch: String?,
        logger: Logger
    ) async throws {
        let value = next.map { Int64(clamping: $0) }
        try await connection.query(
            "UPDATE delivery_marks SET next_seq = \(value), epoch = \(epoch) WHERE proplet_id = \(propletID)",
            logger: logger
        )
    }

    /// Moves the mark from `start` over the contiguous committed `seq`s and deletes those below it.
    private static func settle(
        _ connection: PostgresConnection,
        _ propletID: String,
        from start: UInt64,
        logger: Logger
    ) async throws -> UInt64 {
        let first = Int64(clamping: start)
        let rows = try await connection.query(
            "SELECT seq FROM delivery_seqs WHERE proplet_id = \(propletID) AND seq >= \(first) ORDER BY seq",
            logger: logger
        )
        var next = start
        var contiguous = true
        for try await seq in rows.decode(Int64.self) where contiguous {
            if UInt64(seq) == next { next += 1 } else { contiguous = false }
        }
        let mark = Int64(clamping: next)
        try await connection.query(
            "DELETE FROM delivery_seqs WHERE proplet_id = \(propletID) AND seq < \(mark)",
            logger: logger
        )
        return next
    }

    private static func bindings(_ id: String, _ values: Int64...) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1 + values.count)
        bindings.append(id)
        for value in values { bindings.append(value) }
        return bindings
    }
}
