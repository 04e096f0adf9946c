import PropellerCore

/// What committing a proplet's sequence numbers did (SPEC §2 "Delivery").
public struct DeliveryProgress: Sendable, Hashable {
    /// Every `seq` of the proplet below this one is committed.
    public var next: UInt64
    /// How many of the committed `seq`s were already committed before (duplicates).
    public var duplicates: Int
    /// How many `seq`s this call declared lost (the proplet no longer has them).
    public var lost: UInt64

    public init(next: UInt64, duplicates: Int = 0, lost: UInt64 = 0) {
        self.next = next
        self.duplicates = duplicates
        self.lost = lost
    }

    /// The value to acknowledge (every `seq` up to it is committed); nil while not even the first is.
    public var ackedSeq: UInt64? { next > 0 ? next - 1 : nil }
}

/// The delivery ledger: per proplet, the contiguous high-water mark of committed `seq`s and the
/// committed `seq`s above it. It lives in the store, and every call is one transaction, so several
/// managers sharing one database (each seeing some of a proplet's messages through a shared
/// subscription) acknowledge correctly: whoever commits last sees the whole contiguous range.
public protocol DeliveryStore: Sendable {
    /// Which of `seqs` of a proplet are already committed (at or below the mark, or recorded above it).
    func committedSeqs(propletID: String, among seqs: [UInt64]) async throws -> Set<UInt64>

    /// Records `seqs` (per proplet) as committed, advances each proplet's mark over every contiguous
    /// committed `seq`, and returns the marks. A proplet seen for the first time starts its mark at its
    /// lowest `seq` here (nothing before it can be known).
    func commitSeqs(_ seqs: [String: [UInt64]]) async throws -> [String: DeliveryProgress]

    /// Applies where a proplet's journal stands: every `seq` below `cursor.oldestSeq` that is not
    /// committed is lost for good (counted in the result, the mark moves past it). When the cursor's
    /// `epoch` differs from the recorded one, the proplet numbers from scratch (its journal was lost):
    /// the ledger restarts at `cursor.oldestSeq`. A proplet without a ledger starts there too.
    func reconcileDelivery(propletID: String, cursor: DeliveryCursor) async throws -> DeliveryProgress

    /// The mark of a proplet, nil when none is recorded.
    func ackedSeq(propletID: String) async throws -> UInt64?

    /// Forgets a proplet's ledger (it was deleted or forgotten).
    func forgetDelivery(propletID: String) async throws
}
