import PropellerCore

extension InMemoryStore {
    public func committedSeqs(propletID: String, among seqs: [UInt64]) -> Set<UInt64> {
        guard let ledger = ledgers[propletID] else { return [] }
        return Set(seqs.filter { $0 < ledger.next || ledger.above.contains($0) })
    }

    public func commitSeqs(_ seqs: [String: [UInt64]]) -> [String: DeliveryProgress] {
        var result: [String: DeliveryProgress] = [:]
        for (propletID, numbers) in seqs {
            guard let lowest = numbers.min() else { continue }
            var ledger = ledgers[propletID] ?? Ledger(next: lowest)
            var duplicates = 0
            for seq in numbers where seq < ledger.next || !ledger.above.insert(seq).inserted { duplicates += 1 }
            ledger.settle()
            ledgers[propletID] = ledger
            result[propletID] = DeliveryProgress(next: ledger.next, duplicates: duplicates)
        }
        return result
    }

    public func reconcileDelivery(propletID: String, cursor: DeliveryCursor) -> DeliveryProgress {
        guard var ledger = ledgers[propletID], ledger.epoch == nil || ledger.epoch == cursor.epoch else {
            ledgers[propletID] = Ledger(next: cursor.oldestSeq, epoch: cursor.epoch)
            return DeliveryProgress(next: cursor.oldestSeq)
        }
        ledger.epoch = cursor.epoch
        ledgers[propletID] = ledger
        var lost: UInt64 = 0
        if cursor.oldestSeq > ledger.next {
            let committed = UInt64(ledger.above.filter { $0 < cursor.oldestSeq }.count)
            lost = cursor.oldestSeq - ledger.next - committed
            ledger.next = cursor.oldestSeq
            ledger.settle()
            ledgers[propletID] = ledger
        }
        return DeliveryProgress(next: ledger.next, lost: lost)
    }

    public func ackedSeq(propletID: String) -> UInt64? {
        ledgers[propletID].flatMap { $0.next > 0 ? $0.next - 1 : nil }
    }

    public func forgetDelivery(propletID: String) {
        ledgers[propletID] = nil
    }
}

/// One proplet's delivery ledger in memory: every `seq` below `next` is committed, and so is each of
/// `above`.
struct Ledger: Sendable {
    var next: UInt64
    var epoch: String? = nil
    var above: Set<UInt64> = []

    /// Moves `next` over contiguous committed `seq`s.
    mutating func settle() {
        while above.remove(next) != nil { next += 1 }
        if let lowest = above.min(), lowest < next { above = above.filter { $0 >= next } }
    }
}
