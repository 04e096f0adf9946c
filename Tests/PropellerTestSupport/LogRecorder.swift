import Logging
import Synchronization

/// Collects log records in memory so tests can assert what was logged. Make a `Logger` with
/// `recorder.logger(label:)`; no global bootstrap is touched.
public final class LogRecorder: Sendable {
    /// One log call.
    public struct Record: Sendable {
        /// The level it was logged at.
        public var level: Logger.Level
        /// The message text.
        public var message: String
        /// Metadata of the call merged over the logger's.
        public var metadata: [String: String]
    }

    private let stored = Mutex<[Record]>([])

    /// An empty recorder.
    public init() {}

    /// Everything logged so far, in order.
    public var records: [Record] { stored.withLock { $0 } }

    /// A logger (level `.trace`) that writes into this recorder.
    public func logger(label: String) -> Logger {
        Logger(label: label) { _ in Handler(recorder: self) }
    }

    fileprivate func append(_ record: Record) {
        stored.withLock { $0.append(record) }
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            recorder.append(
                Record(
                    level: event.level,
                    message: event.message.description,
                    metadata: merged.mapValues { "\($0)" }
                )
            )
        }
    }
}
