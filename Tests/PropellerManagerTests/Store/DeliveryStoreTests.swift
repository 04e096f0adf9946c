import PropellerCore
import Testing

@testable import PropellerManager

@Suite("Store: delivery ledger and truthful states (every store)")
struct DeliveryStoreTests {
    typealias F = StoreFixtures

    @Test(
        "the mark starts where the proplet's journal starts and advances over contiguous committed seqs only",
        arguments: StoreFactory.all
    )
    func contiguous(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            let cursor = DeliveryCursor(oldestSeq: 1, nextSeq: 6, epoch: "e1")
            #expect(try await store.reconcileDelivery(propletID: "p1", cursor: cursor) == DeliveryProgress(next: 1))
            var progress = try await store.commitSeqs(["p1": [2, 3, 5]])
            #expect(progress["p1"] == DeliveryProgress(next: 1), "1 is missing: nothing acknowledged")
            #expect(progress["p1"]?.ackedSeq == 0)
            progress = try await store.commitSeqs(["p1": [1, 2]])
            #expect(progress["p1"] == DeliveryProgress(next: 4, duplicates: 1), "1 fills the gap; 2 was committed")
            progress = try await store.commitSeqs(["p1": [4]])
            #expect(progress["p1"]?.ackedSeq == 5)
            #expect(try await store.committedSeqs(propletID: "p1", among: [1, 5, 6]) == [1, 5])
            #expect(try await store.ackedSeq(propletID: "p1") == 5)
            #expect(try await store.ackedSeq(propletID: "p2") == nil)
            // A proplet that never sent a cursor: its ledger starts at the lowest seq first committed.
            #expect(try await store.commitSeqs(["p2": [7, 8, 10]])["p2"] == DeliveryProgress(next: 9))
        }
    }

    @Test(
        "seqs the proplet no longer keeps are counted lost; a new epoch restarts the ledger; forget removes it",
        arguments: StoreFactory.all
    )
    func lostAndReset(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            let first = DeliveryCursor(oldestSeq: 1, nextSeq: 1, epoch: "e1")
            #expect(try await store.reconcileDelivery(propletID: "p1", cursor: first).next == 1)
            _ = try await store.commitSeqs(["p1": [1, 2, 5, 7]])
            let progress = try await store.reconcileDelivery(
                propletID: "p1",
                cursor: DeliveryCursor(oldestSeq: 8, nextSeq: 9, epoch: "e1")
            )
            #expect(progress.lost == 3, "3, 4 and 6 can never arrive")
            #expect(progress.ackedSeq == 7)
            let again = try await store.reconcileDelivery(
                propletID: "p1",
                cursor: DeliveryCursor(oldestSeq: 8, nextSeq: 9, epoch: "e1")
            )
            #expect(again.lost == 0, "a loss is counted once")
            let reset = try await store.reconcileDelivery(
                propletID: "p1",
                cursor: DeliveryCursor(oldestSeq: 1, nextSeq: 3, epoch: "e2")
            )
            #expect(reset == DeliveryProgress(next: 1))
            #expect(try await store.commitSeqs(["p1": [1]])["p1"] == DeliveryProgress(next: 2))
            try await store.forgetDelivery(propletID: "p1")
            #expect(try await store.ackedSeq(propletID: "p1") == nil)
        }
    }

    @Test(
        "a last will makes the proplet not alive and keeps its tasks; the timeout sweep fails them",
        arguments: StoreFactory.all
    )
    func offlineKeepsTasks(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.seed(F.proplet("p-1"))
            try await store.createTask(F.task("t-1"))
            _ = try await store.startTask(id: "t-1", propletID: "p-1", at: F.time(10))
            let update = try #require(try await store.markPropletOffline(id: "p-1", seenBefore: nil, at: F.time(11)))
            #expect(update.wasAlive && !update.proplet.alive)
            #expect(try await store.task(id: "t-1")?.state == .running)
            #expect(try await store.liveProplets().isEmpty)
            #expect(
                try await store.markPropletOffline(id: "p-1", seenBefore: F.time(1), at: F.time(12)) == nil,
                "seen after the bound: left alone"
            )
            let losses = try await store.markSilentPropletsLost(seenBefore: F.time(40), at: F.time(40))
            #expect(losses.map(\.proplet.id) == ["p-1"])
            #expect(losses.first?.failedTasks.map(\.id) == ["t-1"])
            #expect(try await store.task(id: "t-1")?.error == WasmTask.propletLostError)
            #expect(try await store.markSilentPropletsLost(seenBefore: F.time(50), at: F.time(50)).isEmpty)
        }
    }

    @Test(
        "reconciliation resumes tasks the manager failed, fails unreported ones and names strays",
        arguments: StoreFactory.all
    )
    func reconcile(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.seed(F.proplet("p-1"))
            try await store.seed(F.proplet("p-2"))
            for id in ["lost", "gone", "fresh", "elsewhere"] { try await store.createTask(F.task(id)) }
            _ = try await store.startTask(id: "lost", propletID: "p-1", at: F.time(10))
            _ = try await store.startTask(id: "gone", propletID: "p-1", at: F.time(10))
            _ = try await store.startTask(id: "elsewhere", propletID: "p-2", at: F.time(10))
            _ = try await store.markSilentPropletsLost(seenBefore: F.time(6), at: F.time(40))
            #expect(try await store.task(id: "lost")?.state == .failed)
            _ = try await store.recordHeartbeat(propletID: "p-1", runningTasks: 1, at: F.time(50))
            _ = try await store.startTask(id: "fresh", propletID: "p-1", at: F.time(50))
            _ = try await store.startTask(id: "gone", propletID: "p-1", at: F.time(20))
            let outcome = try await store.reconcileTasks(
                propletID: "p-1",
                reported: ["lost", "elsewhere", "deleted"],
                startedBefore: F.time(45),
                at: F.time(51)
            )
            #expect(outcome.resumed.map(\.id) == ["lost"])
            #expect(try await store.task(id: "lost")?.state == .running)
            #expect(try await store.task(id: "lost")?.error == nil)
            #expect(outcome.failed.map(\.id) == ["gone"])
            #expect(try await store.task(id: "gone")?.error == WasmTask.propletRestartedError)
            #expect(try await store.task(id: "fresh")?.state == .running, "started within the grace: left alone")
            #expect(outcome.strays == ["deleted", "elsewhere"])
        }
    }

    @Test("a proplet that never registered is forgotten after the deadline", arguments: StoreFactory.all)
    func forgetUnregistered(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            try await store.seed(F.proplet("anon", withMetadata: false))
            try await store.seed(F.proplet("known"))
            #expect(try await store.forgetUnregisteredProplets(seenBefore: F.time(5)).isEmpty)
            #expect(try await store.forgetUnregisteredProplets(seenBefore: F.time(6)) == ["anon"])
            #expect(try await store.proplet(id: "anon") == nil)
            #expect(try await store.proplet(id: "known") != nil)
        }
    }
}
