import PropellerCore
import ServiceLifecycle
import Synchronization

/// Hands every newly stored task sample to the live subscribers of that task
/// (`GET /tasks/{id}/metrics/stream`).
///
/// Each subscriber gets its own stream that buffers at most `bufferLimit` events (the newest are kept:
/// a slow browser skips old samples, it never holds up ingestion). A task's streams end with
/// `.ended(state)` when its result is applied. As a `Service` it ends every stream on graceful shutdown,
/// so open event streams never keep the manager from stopping.
public final class TaskSampleFeed: Service, Sendable {
    /// One event of a task's stream.
    public enum Event: Sendable, Equatable {
        /// A sample as it was stored.
        case sample(TaskSample)
        /// The task finished (completed, failed or stopped); the stream ends after this event.
        case ended(TaskState)
        /// Nothing happened for `keepaliveInterval`: lets proxies and clients see the stream is alive.
        case keepalive
    }

    private struct Subscriber {
        var taskID: String
        var continuation: AsyncStream<Event>.Continuation
    }

    private let subscribers = Mutex<[Int: Subscriber]>([:])
    private let nextID = Atomic<Int>(0)
    /// Events buffered per subscriber at most (newest kept). Default 256.
    let bufferLimit: Int

    /// How often `.keepalive` is sent to every stream. Default 15 s.
    let keepaliveInterval: Duration

    /// An empty feed.
    public init(bufferLimit: Int = 256, keepaliveInterval: Duration = .seconds(15)) {
        self.bufferLimit = bufferLimit
        self.keepaliveInterval = keepaliveInterval
    }

    /// The live events of one task, from now on.
    public func subscribe(taskID: String) -> AsyncStream<Event> {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(bufferLimit))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = Subscriber(taskID: taskID, continuation: continuation) }
        return stream
    }

    /// Number of open subscriptions (all tasks).
    public var subscriberCount: Int { subscribers.withLock { $0.count } }

    /// Sends stored samples to the subscribers of their tasks, in the given order.
    public func publish(_ samples: [TaskSample]) {
        let targets = subscribers.withLock { all in all.values.map { ($0.taskID, $0.continuation) } }
        guard !targets.isEmpty else { return }
        for sample in samples {
            for (taskID, continuation) in targets where taskID == sample.taskID {
                continuation.yield(.sample(sample))
            }
        }
    }

    /// Ends the streams of a task that finished, after an `.ended` event.
    public func taskEnded(id: String, state: TaskState) {
        let ended = subscribers.withLock { all in
            let ids = all.filter { $0.value.taskID == id }.map(\.key)
            return ids.compactMap { all.removeValue(forKey: $0)?.continuation }
        }
        for continuation in ended {
            continuation.yield(.ended(state))
            continuation.finish()
        }
    }

    /// Sends keep-alives until graceful shutdown, then ends every stream.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.keepaliveInterval)
                let all = self.subscribers.withLock { $0.values.map(\.continuation) }
                for continuation in all { continuation.yield(.keepalive) }
            }
        }
        finishAll()
    }

    /// Ends every open stream.
    public func finishAll() {
        let all = subscribers.withLock { all in
            defer { all.removeAll() }
            return Array(all.values)
        }
        for subscriber in all { subscriber.continuation.finish() }
    }
}
