import Foundation
import PropellerCore
import PropellerTestSupport
import Synchronization
import Testing

@testable import PropellerManager

/// Issue 14 point 3: two managers sharing one PostgreSQL database each commit part of one proplet's
/// messages (a shared subscription splits them); each acknowledges only what is committed — by it or by
/// the other — and together they reach the end.
@Suite("Delivery ledger: two managers on one PostgreSQL database")
struct PostgresDeliveryTests {
    /// The largest n such that 1…n are all in `seqs`.
    static func prefix(_ seqs: Set<UInt64>) -> UInt64 {
        var next: UInt64 = 1
        while seqs.contains(next) { next += 1 }
        return next - 1
    }

    /// The seqs handed to either store so far, and every ack that covered more than them.
    final class Tracker: Sendable {
        let submitted = Mutex<Set<UInt64>>([])
        let violations = Mutex<[String]>([])
    }

    /// Commits the seqs 1…2000 of one parity in batches of 10, checking every returned mark.
    static func commit(_ store: PostgresStore, parity: UInt64, tracker: Tracker) async throws {
        let mine = (1...2000).map(UInt64.init).filter { $0 % 2 == parity }
        for start in stride(from: 0, to: mine.count, by: 10) {
            let batch = Array(mine[start..<min(start + 10, mine.count)])
            tracker.submitted.withLock { $0.formUnion(batch) }
            let progress = try await store.commitSeqs(["p1": batch])
            let acked = progress["p1"]?.ackedSeq ?? 0
            let bound = prefix(tracker.submitted.withLock { $0 })
            if acked > bound { tracker.violations.withLock { $0.append("acked \(acked) > \(bound)") } }
        }
    }

    @Test("odd seqs through one manager, even through the other, concurrently: no ack covers an unsent seq")
    func splitCommits() async throws {
        try await withPostgresStore { firstStore, server in
            let url = try #require(DatabaseURL(server.url))
            try await PostgresStore.withStore(url: url, logger: .quiet) { secondStore in
                let cursor = DeliveryCursor(oldestSeq: 1, nextSeq: 2001, epoch: "e1")
                _ = try await secondStore.reconcileDelivery(propletID: "p1", cursor: cursor)
                let tracker = Tracker()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await Self.commit(firstStore, parity: 1, tracker: tracker) }
                    group.addTask { try await Self.commit(secondStore, parity: 0, tracker: tracker) }
                    try await group.waitForAll()
                }
                #expect(tracker.violations.withLock { $0 }.isEmpty)
                #expect(try await firstStore.ackedSeq(propletID: "p1") == 2000)
                #expect(try await secondStore.ackedSeq(propletID: "p1") == 2000)
                #expect(
                    try await firstStore.commitSeqs(["p1": [7, 2000]])["p1"]
                        == DeliveryProgress(next: 2001, duplicates: 2)
                )
            }
        }
    }
}
