import PropellerCore
import Testing

@testable import PropellerManager

@Suite("Delivery ledger in the store")
struct DeliveryStoreTests {
    @Test(
        "the mark advances over contiguous seqs only; out-of-order and repeated seqs are handled",
        arguments: StoreKind.allCases
    )
    func contiguous(kind: StoreKind) async throws {
        let store = try kind.make()
        var progress = try await store.commitSeqs(["p1": [1, 2, 4]])
        #expect(progress["p1"] == DeliveryProgress(next: 3))
        progress = try await store.commitSeqs(["p1": [5, 2]])
        #expect(progress["p1"] == DeliveryProgress(next: 3, duplicates: 1))
        progress = try await store.commitSeqs(["p1": [3]])
        #expect(progress["p1"]?.ackedSeq == 5)
        #expect(try await store.committedSeqs(propletID: "p1", among: [1, 5, 6]) == [1, 5])
        #expect(try await store.ackedSeq(propletID: "p1") == 5)
        #expect(try await store.ackedSeq(propletID: "p2") == nil)
    }

    @Test(
        "seqs the proplet no longer keeps are counted lost; a new epoch restarts the ledger",
        arguments: StoreKind.allCases
    )
    func lostAndReset(kind: StoreKind) async throws {
        let store = try kind.make()
        #expect(
            try await store.reconcileDelivery(propletID: "p1", cursor: .init(oldestSeq: 1, nextSeq: 1, epoch: "e1"))
                .next == 1
        )
        _ = try await store.commitSeqs(["p1": [1, 2, 5, 7]])
        let progress = try await store.reconcileDelivery(
            propletID: "p1",
            cursor: DeliveryCursor(oldestSeq: 8, nextSeq: 9, epoch: "e1")
        )
        #expect(progress.lost == 3, "3, 4 and 6 can never arrive")
        #expect(progress.ackedSeq == 7)
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
