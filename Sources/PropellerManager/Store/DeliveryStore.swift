import PropellerCore

/// What a delivery-ledger operation did (SPEC §2 "Delivery").
public struct DeliveryProgress: Sendable, Hashable {
    /// Every `seq` of the proplet below this one is committed; nil while the proplet has no mark.
    public var next: UInt64?
    /// How many of the given `seq`s were committed before (resends).
    public var duplicates: Int
    /// How many `seq`s this call declared lost (the proplet no longer has them, none was committed).
    public var lost: UInt64

    /// A progress report.
    public init(next: UInt64?, duplicates: Int = 0, lost: UInt64 = 0) {
        self.next = next
        self.duplicates = duplicates
        self.lost = lost
    }

    /// The value to acknowledge (every `seq` up to it is committed); nil while there is no mark or not
    /// even the first `seq` is committed.
    public var ackedSeq: UInt64? { next.flatMap { $0 > 0 ? $0 - 1 : nil } }
}

/// The delivery ledger: per proplet, the contiguous mark below which every `seq` is committed, and the
/// committed `seq`s above it (those that arrived out of order, or before the mark was known).
///
/// It lives in the store, and every call is one transaction that locks the proplet's ledger, so several
/// managers sharing one database — each seeing part of a proplet's messages through a shared
/// subscription — acknowledge correctly: a manager records its `seq`s only after their messages are
/// committed, and whoever records last sees the whole contiguous range. The mark starts where the
/// proplet says its journal starts (`reconcileDelivery`, from the `delivery` cursor of its
/// registration); a proplet that never says (a client speaking only SPEC §2) starts at the lowest `seq`
/// first committed.
public protocol DeliveryStore: Sendable {
    /// Which of `seqs` of a proplet are already committed (below the mark, or recorded above it).
    func committedSeqs(propletID: String, among seqs: [UInt64]) async throws -> Set<UInt64>

    /// Records `seqs` (per proplet) as committed — call only after their messages are committed —,
    /// advances each proplet's mark over every contiguous committed `seq`, and returns the marks.
    func commitSeqs(_ seqs: [String: [UInt64]]) async throws -> [String: DeliveryProgress]

    /// Applies where a proplet's journal stands: a proplet without a mark gets one at
    /// `cursor.oldestSeq`; every `seq` below `cursor.oldestSeq` that is not committed is lost for good
    /// (counted, the mark moves past it). A different `epoch` means the proplet numbers from scratch
    /// (its journal was lost): the ledger restarts at `cursor.oldestSeq`.
    func reconcileDelivery(propletID: String, cursor: DeliveryCursor) async throws -> DeliveryProgress

    /// The acknowledgeable `seq` of a proplet, nil when there is none.
    func ackedSeq(propletID: String) async throws -> UInt64?

    /// Forgets a proplet's ledger (it was deleted or forgotten).
    func forgetDelivery(propletID: String) async throws
}

/// What `reconcileTasks` changed (SPEC §4 reconciliation).
public struct TaskReconciliation: Sendable, Hashable {
    /// Tasks the manager had marked failed whose process still runs there: `running` again.
    public var resumed: [WasmTask] = []
    /// Tasks recorded `running` there that the proplet no longer runs: now `failed`.
    public var failed: [WasmTask] = []
    /// Reported ids of tasks that were deleted or belong to another proplet now: to be stopped there.
    public var strays: [String] = []

    /// Nothing changed.
    public init() {}
}

/// The liveness operations that keep task states truthful (SPEC §4): a proplet can be not alive while
/// its tasks still run, and a returning proplet's `task_ids` reconcile the records.
public protocol PropletStateStore: Sendable {
    /// Marks a proplet not alive (its last will arrived, or it missed heartbeats) without touching its
    /// tasks: they stay `running` until `MANAGER_PROPLET_TIMEOUT`. With `seenBefore`, only when the
    /// proplet was last seen before it (a heartbeat recorded meanwhile wins). Nil when unknown or when
    /// the condition does not hold.
    func markPropletOffline(id: String, seenBefore: Timestamp?, at now: Timestamp) async throws -> PropletUpdate?

    /// Deletes every proplet that never completed a registration (no metadata) and was last seen before
    /// `deadline`, with its samples and delivery ledger; returns their ids (byte order).
    func forgetUnregisteredProplets(seenBefore deadline: Timestamp) async throws -> [String]

    /// Reconciles the tasks recorded for a proplet with the ids it reports running, atomically:
    /// a reported task the manager failed itself (`proplet lost`, `lost when the proplet restarted`)
    /// goes back to `running`; a reported id that is unknown or assigned elsewhere is a stray; a task
    /// recorded `running` there, not reported and started before `startedBefore`, becomes `failed`
    /// with `lost when the proplet restarted`.
    func reconcileTasks(
        propletID: String,
        reported: Set<String>,
        startedBefore: Timestamp,
        at now: Timestamp
    ) async throws -> TaskReconciliation
}

extension WasmTask {
    /// The error of tasks a restarted proplet no longer runs (SPEC §4).
    public static let propletRestartedError = "lost when the proplet restarted"

    /// Whether the task's `failed` state is the manager's own conclusion (its proplet was lost or
    /// restarted), not its proplet's report: the proplet's word may still change it.
    public var failedByManager: Bool {
        state == .failed && (error == Self.propletLostError || error == Self.propletRestartedError)
    }

    /// This task running again on its proplet at `now` (reconciliation).
    public func resumed(at now: Timestamp) -> WasmTask {
        var task = self
        task.state = .running
        task.error = nil
        task.finishedAt = nil
        task.updatedAt = now
        return task
    }

    /// This task failed because its proplet no longer runs it (reconciliation).
    public func lostAtRestart(at now: Timestamp) -> WasmTask {
        var task = self
        task.state = .failed
        task.error = Self.propletRestartedError
        task.finishedAt = now
        task.updatedAt = now
        return task
    }

    /// What reconciliation does with this stored task given whether its proplet reports it.
    func reconciled(
        reportedBy propletID: String,
        reported: Bool,
        startedBefore: Timestamp,
        at now: Timestamp
    )
        -> WasmTask?
    {
        guard self.propletID == propletID else { return nil }
        if reported { return failedByManager ? resumed(at: now) : nil }
        guard state == .running, (startedAt ?? now) < startedBefore else { return nil }
        return lostAtRestart(at: now)
    }
}
