import PropellerCore
import Testing

@testable import PropellerManager

/// The batcher's group commit: full batches leave at once while the writer is idle; while it is busy
/// samples accumulate and leave together when it reports the batch written, up to the batch limit.
@Suite("Sample batcher")
struct SampleBatcherTests {
    typealias F = StoreFixtures

    private func samples(_ range: Range<Int>) -> [TaskSample] {
        range.map { F.sample("t", at: Double($0)) }
    }

    private func collect(_ batcher: SampleBatcher) async -> [[TaskSample]] {
        var batches: [[TaskSample]] = []
        for await batch in batcher.batches {
            if case .task(let samples) = batch { batches.append(samples) }
        }
        return batches
    }

    @Test("a busy writer is handed what accumulated meanwhile in one batch, up to the limit, in order")
    func groupCommit() async {
        let batcher = SampleBatcher(batchSize: 10, maxBatchSize: 30)
        let all = samples(0..<70)
        for sample in all[0..<10] { batcher.append(sample) }  // idle writer: a full batch leaves (A)
        for sample in all[10..<35] { batcher.append(sample) }  // busy: 25 wait
        batcher.batchWritten()  // A written: the 25 leave (B)
        for sample in all[35..<65] { batcher.append(sample) }  // busy: 30 reach the limit and leave (C)
        for sample in all[65..<70] { batcher.append(sample) }  // busy: 5 wait
        batcher.flush()  // the writer is busy: nothing leaves
        batcher.batchWritten()  // B written; C still waits for the writer
        batcher.batchWritten()  // C written: 5 are fewer than the batch size, the writer goes idle
        batcher.flush()  // idle: the 5 leave (D)
        batcher.batchWritten()
        batcher.finish()
        let batches = await collect(batcher)
        #expect(batches.map(\.count) == [10, 25, 30, 5])
        #expect(batches.flatMap { $0 } == all)
    }

    @Test("an idle writer gets a partial batch on flush, and finish sends the rest")
    func flushAndFinish() async {
        let batcher = SampleBatcher(batchSize: 100)
        let all = samples(0..<7)
        for sample in all[0..<3] { batcher.append(sample) }
        batcher.flush()  // idle: the 3 leave
        for sample in all[3..<7] { batcher.append(sample) }
        batcher.flush()  // busy with the 3: nothing leaves
        batcher.finish()  // shutting down: everything leaves
        let batches = await collect(batcher)
        #expect(batches.map(\.count) == [3, 4])
        #expect(batches.flatMap { $0 } == all)
    }
}
