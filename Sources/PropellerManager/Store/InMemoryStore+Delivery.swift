import PropellerCore

extension InMemoryStore {
    // MARK: Delivery ledger

    public func committedSeqs(propletID: String, among seqs: [UInt64]) -> Set<UInt64> {
        guard let ledger = ledgers[propletID] else { return [] }
        return Set(seqs.filter { ledger.isCommitted($0) })
    }

    public func commitSeqs(_ seqs: [String: [UInt64]]) -> [String: DeliveryProgress] {
        var result: [String: DeliveryProgress] = [:]
        for (propletID, numbers) in seqs where !numbers.isEmpty {
            var ledger = ledgers[propletID] ?? Ledger()
            if ledger.next == nil { ledger.next = numbers.min() }
            var duplicates = 0
            for seq in numbers where ledger.isCommitted(seq) || !ledger.above.insert(seq).inserted { duplicates += 1 }
            ledger.settle()
            ledgers[propletID] = ledger
            result[propletID] = DeliveryProgress(next: ledger.next, duplicates: duplicates)
        }
        return result
    }

    public func reconcileDelivery(propletID: String, cursor: DeliveryCursor) -> DeliveryProgress {
        var ledger = ledgers[propletID] ?? Ledger()
        var lost: UInt64 = 0
        if ledger.epoch != nil, ledger.epoch != cursor.epoch {
            ledger = Ledger()
        }
        ledger.epoch = cursor.epoch
        if let next = ledger.next {
            if cursor.oldestSeq > next {
                let committed = UInt64(ledger.above.filter { $0 < cursor.oldestSeq }.count)
                lost = cursor.oldestSeq - next - committed
                ledger.next = cursor.oldestSeq
            }
        } else {
            ledger.next = cursor.oldestSeq
        }
        ledger.settle()
        ledgers[propletID] = ledger
        return DeliveryProgress(next: ledger.next, lost: lost)
    }

    public func ackedSeq(propletID: String) -> UInt64? {
        ledgers[propletID].flatMap { DeliveryProgress(next: $0.next).ackedSeq }
    }

    public func forgetDelivery(propletID: String) {
        ledgers[propletID] = nil
    }

    // MARK: Truthful states

    public func markPropletOffline(id: String, seenBefore: Timestamp?, at now: Timestamp) -> PropletUpdate? {
        guard var proplet = propletsByID[id] else { return nil }
        if let seenBefore, proplet.lastSeen >= seenBefore { return nil }
        let wasAlive = proplet.alive
        proplet.alive = false
        propletsByID[id] = proplet
        return PropletUpdate(proplet: proplet, wasAlive: wasAlive)
    }

    public func forgetUnregisteredProplets(seenBefore deadline: Timestamp) -> [String] {
        let ids = propletsByID.values.filter { $0.metadata == nil && $0.lastSeen < deadline }.map(\.id)
            .sorted { Self.bytewise($0, $1) }
        for id in ids {
            propletsByID[id] = nil
            propletSeries[id] = nil
            ledgers[id] = nil
        }
        return ids
    }

    public func reconcileTasks(
        propletID: String,
        reported: Set<String>,
        startedBefore: Timestamp,
        at now: Timestamp
    ) -> TaskReconciliation {
        var outcome = TaskReconciliation()
        for id in reported.sorted() {
            guard let task = tasksByID[id], task.propletID == propletID else {
                outcome.strays.append(id)
                continue
            }
            if let resumed = task.reconciled(
                reportedBy: propletID,
                reported: true,
                startedBefore: startedBefore,
                at: now
            ) {
                tasksByID[id] = resumed
                outcome.resumed.append(resumed)
            }
        }
        for task in runningTasks(propletID: propletID) where !reported.contains(task.id) {
            if let failed = task.reconciled(
                reportedBy: propletID,
                reported: false,
                startedBefore: startedBefore,
                at: now
            ) {
                tasksByID[task.id] = failed
                outcome.failed.append(failed)
            }
        }
        return outcome
    }
}

/// One proplet's delivery ledger in memory: every `seq` below `next` is committed, and so is each of
/// `above`.
struct Ledger: Sendable {
    var next: UInt64?
    var epoch: String?
    var above: Set<UInt64> = []

    func isCommitted(_ seq: UInt64) -> Bool {
        if let next, seq < next { return true }
        return above.contains(seq)
    }

    /// Moves `next` over contiguous committed `seq`s and drops what lies below it.
    mutating func settle() {
        guard var mark = next else { return }
        while above.remove(mark) != nil { mark += 1 }
        next = mark
        if let lowest = above.min(), lowest < mark { above = above.filter { $0 >= mark } }
    }
}
