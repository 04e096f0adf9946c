import PropellerCore
import Synchronization

/// Collects decoded samples and hands them to the writer in batches: a batch leaves when it holds
/// `batchSize` samples or when `flush()` is called (the ingestion service calls it on a timer).
///
/// Appending never waits for the database, so decoding and writing run side by side.
final class SampleBatcher: Sendable {
    /// A group of samples written in one transaction.
    enum Batch: Sendable {
        case task([TaskSample])
        case proplet([PropletSample])
    }

    private struct Buffers {
        var task: [TaskSample] = []
        var proplet: [PropletSample] = []
    }

    let batchSize: Int
    private let buffers = Mutex(Buffers())
    private let continuation: AsyncStream<Batch>.Continuation
    /// The batches, in order; ends after `finish()`.
    let batches: AsyncStream<Batch>

    init(batchSize: Int) {
        self.batchSize = max(1, batchSize)
        (batches, continuation) = AsyncStream<Batch>.makeStream()
    }

    func append(_ sample: TaskSample) {
        let full = buffers.withLock { buffers -> [TaskSample]? in
            buffers.task.append(sample)
            guard buffers.task.count >= batchSize else { return nil }
            defer { buffers.task.removeAll(keepingCapacity: true) }
            return buffers.task
        }
        if let full { continuation.yield(.task(full)) }
    }

    func append(_ sample: PropletSample) {
        let full = buffers.withLock { buffers -> [PropletSample]? in
            buffers.proplet.append(sample)
            guard buffers.proplet.count >= batchSize else { return nil }
            defer { buffers.proplet.removeAll(keepingCapacity: true) }
            return buffers.proplet
        }
        if let full { continuation.yield(.proplet(full)) }
    }

    /// Sends whatever is buffered.
    func flush() {
        let (task, proplet) = buffers.withLock { buffers in
            defer {
                buffers.task.removeAll(keepingCapacity: true)
                buffers.proplet.removeAll(keepingCapacity: true)
            }
            return (buffers.task, buffers.proplet)
        }
        if !task.isEmpty { continuation.yield(.task(task)) }
        if !proplet.isEmpty { continuation.yield(.proplet(proplet)) }
    }

    /// Flushes and ends the stream of batches.
    func finish() {
        flush()
        continuation.finish()
    }
}
