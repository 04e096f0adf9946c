import PropellerCore
import Synchronization

/// Collects decoded samples and hands them to the writer in batches, sized by the writer's pace.
///
/// While the writer is idle a batch leaves when it holds `batchSize` samples or when `flush()` is
/// called (the ingestion service calls it on a timer), so at low rates a sample waits at most one flush
/// interval. While the writer is busy with a batch, samples accumulate, and when it reports the batch
/// written (`batchWritten()`) it is handed everything that came meanwhile — if that is at least
/// `batchSize`, up to `maxBatchSize` — group commit: under a flood the transactions grow and their
/// fixed cost (round trips, the commit's flush to disk) is paid per many samples instead of per
/// `batchSize`, and at most one batch waits besides the one being written. Task and proplet samples are batched separately, in arrival order within each.
///
/// Appending never waits for the database, so decoding and writing run side by side.
final class SampleBatcher: Sendable {
    /// A group of samples written in one transaction.
    enum Batch: Sendable {
        case task([TaskSample])
        case proplet([PropletSample])

        var count: Int {
            switch self {
            case .task(let samples): samples.count
            case .proplet(let samples): samples.count
            }
        }
    }

    private struct Buffers {
        var task: [TaskSample] = []
        var proplet: [PropletSample] = []
        /// Batches handed to the writer and not yet reported written.
        var outstanding = 0
        var finishing = false

        /// Takes up to `limit` of the buffered samples of each kind, oldest first.
        mutating func take(_ limit: Int, task takeTask: Bool = true, proplet takeProplet: Bool = true) -> [Batch] {
            var batches: [Batch] = []
            if takeTask, !task.isEmpty {
                batches.append(.task(Array(task.prefix(limit))))
                task.removeFirst(min(limit, task.count))
            }
            if takeProplet, !proplet.isEmpty {
                batches.append(.proplet(Array(proplet.prefix(limit))))
                proplet.removeFirst(min(limit, proplet.count))
            }
            outstanding += batches.count
            return batches
        }
    }

    /// Samples a batch leaves with while the writer is idle (default 500).
    let batchSize: Int
    /// The most samples of one kind in one batch (default 10 × `batchSize`: with the default 500, 5,000
    /// samples, a fraction of a second of SQLite's write lock).
    let maxBatchSize: Int
    private let buffers = Mutex(Buffers())
    private let continuation: AsyncStream<Batch>.Continuation
    /// The batches, in order; ends after `finish()`.
    let batches: AsyncStream<Batch>

    init(batchSize: Int, maxBatchSize: Int? = nil) {
        self.batchSize = max(1, batchSize)
        self.maxBatchSize = max(self.batchSize, maxBatchSize ?? 10 * self.batchSize)
        (batches, continuation) = AsyncStream<Batch>.makeStream()
    }

    func append(_ sample: TaskSample) {
        buffers.withLock { buffers in
            buffers.task.append(sample)
            if ready(buffers, count: buffers.task.count) { send(buffers.take(maxBatchSize, proplet: false)) }
        }
    }

    func append(_ sample: PropletSample) {
        buffers.withLock { buffers in
            buffers.proplet.append(sample)
            if ready(buffers, count: buffers.proplet.count) { send(buffers.take(maxBatchSize, task: false)) }
        }
    }

    /// The writer has written one batch (or failed to): once it has no other batch waiting, hands it
    /// what accumulated meanwhile when that is at least `batchSize` (a backlog). Less waits for the batch
    /// size or the next flush, as with an idle writer: handing over every remainder at once would keep
    /// the writer busy with ever smaller transactions at moderate rates.
    func batchWritten() {
        buffers.withLock { buffers in
            buffers.outstanding = max(0, buffers.outstanding - 1)
            guard buffers.outstanding == 0 else { return }
            send(
                buffers.take(
                    maxBatchSize,
                    task: buffers.task.count >= batchSize,
                    proplet: buffers.proplet.count >= batchSize
                )
            )
        }
    }

    /// Sends whatever is buffered when the writer is idle (a busy writer takes it when it is done).
    func flush() {
        buffers.withLock { buffers in
            if buffers.outstanding == 0 { send(buffers.take(maxBatchSize)) }
        }
    }

    /// Whether `finish()` was called (the service is stopping: the writer stops waiting for the store).
    var isFinishing: Bool { buffers.withLock { $0.finishing } }

    /// Sends everything buffered and ends the stream of batches.
    func finish() {
        buffers.withLock { buffers in
            buffers.finishing = true
            while !buffers.task.isEmpty || !buffers.proplet.isEmpty { send(buffers.take(maxBatchSize)) }
        }
        continuation.finish()
    }

    /// A kind's buffer leaves now: it is full while the writer is idle, or at the batch limit whatever
    /// the writer does.
    private func ready(_ buffers: Buffers, count: Int) -> Bool {
        (buffers.outstanding == 0 && count >= batchSize) || count >= maxBatchSize
    }

    /// Yields under the lock, so batches reach the writer in the order they were taken.
    private func send(_ batches: [Batch]) {
        for batch in batches { continuation.yield(batch) }
    }
}
