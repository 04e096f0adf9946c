import PropellerCore

extension IngestionService {
    /// Writes batches in order until the batcher finishes: checks every sample, stores the accepted
    /// ones in one transaction, then commits the batch's `seq`s and acknowledges them, and tells the
    /// batcher, which then hands over what accumulated meanwhile. While the store is unavailable
    /// (`StoreError.unavailable`: PostgreSQL down or restarting) the same batch is tried again, every
    /// 0.25 s at first and then every 2 s, until it is written or the service stops; what keeps coming
    /// accumulates in the batcher meanwhile. Once the task is cancelled, and for any other failure, the
    /// batch is dropped: nothing of it is acknowledged, so the proplets send it again.
    func write(_ batcher: SampleBatcher) async {
        for await batch in batcher.batches {
            defer { batcher.batchWritten() }
            var delay = Duration.milliseconds(250)
            var waitingSince: ContinuousClock.Instant?
            while true {
                do {
                    switch batch {
                    case .task(let samples): try await writeTaskSamples(samples)
                    case .proplet(let samples): try await writePropletSamples(samples)
                    }
                    if let waitingSince {
                        logger.info(
                            "samples stored after the store came back",
                            metadata: ["count": "\(batch.count)", "waited": "\(ContinuousClock.now - waitingSince)"]
                        )
                    }
                    break
                } catch StoreError.unavailable(let reason) where !batcher.isFinishing && !Task.isCancelled {
                    if waitingSince == nil {
                        waitingSince = .now
                        logger.warning(
                            "store unavailable: holding samples until it is back",
                            metadata: ["count": "\(batch.count)", "reason": "\(reason)"]
                        )
                    }
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(2))
                } catch {
                    metrics.messageDropped(reason: DropReason.storeError.rawValue, count: batch.count)
                    logger.error("samples not stored", metadata: ["count": "\(batch.count)", "error": "\(error)"])
                    break
                }
            }
        }
    }

    private func writeTaskSamples(_ samples: [TaskSample]) async throws {
        let now = tasks.time.now()
        var lookup = Lookup(store: store)
        let batchTasks = try await store.tasks(ids: Set(samples.map(\.taskID)))
        var accepted: [TaskSample] = []
        var seqs: [String: [UInt64]] = [:]
        var drops: [DropReason: Int] = [:]
        for sample in samples {
            let proplet = try await lookup.proplet(sample.propletID)
            if let seq = sample.seq, proplet?.metadata != nil { seqs[sample.propletID, default: []].append(seq) }
            let task = batchTasks[sample.taskID]
            if let reason = rules.check(sample, task: task, proplet: proplet, now: now) {
                drops[reason, default: 0] += 1
                continue
            }
            accepted.append(sample)
        }
        report(drops, kind: "task")
        let stored = try await store.insertTaskSamples(accepted)
        metrics.samplesStored(stored, kind: "task")
        try await delivery.commit(seqs)
        feed?.publish(accepted)
        await metrics.updateTaskGauges(from: accepted) { id in
            if let task = batchTasks[id] { return task }
            return try? await store.task(id: id)
        }
    }

    private func writePropletSamples(_ samples: [PropletSample]) async throws {
        let now = tasks.time.now()
        var lookup = Lookup(store: store)
        var accepted: [PropletSample] = []
        var seqs: [String: [UInt64]] = [:]
        var drops: [DropReason: Int] = [:]
        for sample in samples {
            let proplet = try await lookup.proplet(sample.propletID)
            if let seq = sample.seq, proplet?.metadata != nil { seqs[sample.propletID, default: []].append(seq) }
            if let reason = rules.check(sample, proplet: proplet, now: now) {
                drops[reason, default: 0] += 1
                continue
            }
            accepted.append(sample)
        }
        report(drops, kind: "proplet")
        let stored = try await store.insertPropletSamples(accepted)
        metrics.samplesStored(stored, kind: "proplet")
        try await delivery.commit(seqs)
        var latest: [String: PropletSample] = [:]
        for sample in accepted where sample.timestamp >= (latest[sample.propletID]?.timestamp ?? sample.timestamp) {
            latest[sample.propletID] = sample
        }
        for sample in latest.values { metrics.updateProplet(sample) }
    }

    /// Counts a batch's dropped samples by reason and logs them once per batch.
    private func report(_ drops: [DropReason: Int], kind: String) {
        guard !drops.isEmpty else { return }
        for (reason, count) in drops { metrics.messageDropped(reason: reason.rawValue, count: count) }
        logger.warning(
            "samples dropped",
            metadata: [
                "kind": "\(kind)",
                "reasons": "\(drops.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: ","))",
            ]
        )
    }
}

/// Proplets read once per batch (a batch's tasks are read at once, `Store.tasks(ids:)`).
private struct Lookup {
    let store: any Store
    var proplets: [String: Proplet?] = [:]

    init(store: any Store) {
        self.store = store
    }

    mutating func proplet(_ id: String) async throws -> Proplet? {
        if let known = proplets[id] { return known }
        let proplet = try await store.proplet(id: id)
        proplets[id] = .some(proplet)
        return proplet
    }
}
