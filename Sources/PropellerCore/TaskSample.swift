/// A task-level sample: `control/proplet/task_metrics` and `metrics/proplet` (SPEC §2).
public struct TaskSample: Sendable, Hashable, Codable {
    public var taskID: String
    public var propletID: String
    public var metrics: ProcessMetrics
    /// Present only when the profile retains history.
    public var aggregated: AggregatedMetrics?
    public var timestamp: Timestamp
    /// The proplet's delivery sequence number (SPEC §2 "Delivery"); nil on `metrics/proplet` copies
    /// from other implementations that do not number their messages.
    public var seq: UInt64?

    public init(
        taskID: String,
        propletID: String,
        metrics: ProcessMetrics,
        aggregated: AggregatedMetrics?,
        timestamp: Timestamp,
        seq: UInt64? = nil
    ) {
        self.taskID = taskID
        self.propletID = propletID
        self.metrics = metrics
        self.aggregated = aggregated
        self.timestamp = timestamp
        self.seq = seq
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case taskID = "task_id"
        case propletID = "proplet_id"
        case metrics, aggregated, timestamp, seq
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        taskID = try container.decodeIdentifier(.taskID)
        propletID = try container.decodeIdentifier(.propletID)
        metrics = try container.decode(ProcessMetrics.self, forKey: .metrics)
        aggregated = try container.decodeIfPresent(AggregatedMetrics.self, forKey: .aggregated)
        timestamp = try container.decode(Timestamp.self, forKey: .timestamp)
        seq = try container.decodeSequenceNumberIfPresent(.seq)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(propletID, forKey: .propletID)
        try container.encode(metrics, forKey: .metrics)
        try container.encodeIfPresent(aggregated, forKey: .aggregated)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encodeIfPresent(seq, forKey: .seq)
    }
}

/// The final sample and the lifetime aggregate of a task, carried in its results message.
public struct FinalMetrics: Sendable, Hashable, Codable {
    public var metrics: ProcessMetrics
    /// Over the task's whole life (not only the history window).
    public var aggregated: AggregatedMetrics
    public var timestamp: Timestamp

    public init(metrics: ProcessMetrics, aggregated: AggregatedMetrics, timestamp: Timestamp) {
        self.metrics = metrics
        self.aggregated = aggregated
        self.timestamp = timestamp
    }
}

extension KeyedDecodingContainer {
    /// Decodes an optional sequence number: an integer from 0 to 2^63 − 1.
    func decodeSequenceNumberIfPresent(_ key: Key) throws -> UInt64? {
        try decodeNonNegativeIfPresent(key).map { UInt64($0) }
    }

    /// Decodes an identifier: a non-empty string of at most 128 characters without MQTT wildcards.
    func decodeIdentifier(_ key: Key) throws -> String {
        let value = try decode(String.self, forKey: key)
        try Identifier.validate(value, field: key.stringValue)
        return value
    }
}

/// Rules for task and proplet identifiers.
public enum Identifier {
    /// Accepts a non-empty string of at most 128 characters with no `/`, `+`, `#` or control characters.
    public static func validate(_ value: String, field: String) throws(ContractError) {
        let bad = value.unicodeScalars.contains { $0 == "/" || $0 == "+" || $0 == "#" || $0.value < 0x20 }
        guard !value.isEmpty, value.count <= 128, !bad else {
            throw .invalidValue(
                field: field,
                expected: "a non-empty identifier of at most 128 characters without '/', '+', '#'",
                got: "\"\(value.prefix(40))\""
            )
        }
    }
}
