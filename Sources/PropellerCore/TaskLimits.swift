/// A task's resource limits (SPEC §5 "Limits"): `limits` in `POST /tasks`, `GET /tasks/{id}` and the
/// start command. Each limit is optional; nil means none (or the proplet's default, see `applying`).
///
/// - `memory_bytes`: resident memory of the task's process, in bytes, from 1 MiB to 1 TiB.
/// - `cpu_seconds`: CPU time (user + system) of the task's process, whole seconds from 1 to one year.
/// - `timeout_seconds`: wall time from the start of the task's process, whole seconds from 1 to one year.
///
/// A task that goes past one fails with `exceededMessage(…)` ("memory limit of 67108864 bytes exceeded").
public struct TaskLimits: Sendable, Hashable, Codable {
    /// Most resident memory of the task's process, in bytes.
    public var memoryBytes: Int64?
    /// Most CPU time of the task's process, in seconds.
    public var cpuSeconds: Int?
    /// Most wall time of the task's process, in seconds.
    public var timeoutSeconds: Int?

    /// Creates limits; nil fields are unlimited.
    public init(memoryBytes: Int64? = nil, cpuSeconds: Int? = nil, timeoutSeconds: Int? = nil) {
        self.memoryBytes = memoryBytes
        self.cpuSeconds = cpuSeconds
        self.timeoutSeconds = timeoutSeconds
    }

    /// No limit at all.
    public static let none = TaskLimits()

    /// Accepted `memory_bytes`: 1 MiB … 1 TiB.
    public static let memoryBytesRange: ClosedRange<Int64> = (1 << 20)...(1 << 40)
    /// Accepted `cpu_seconds` and `timeout_seconds`: 1 s … 365 days.
    public static let secondsRange: ClosedRange<Int> = 1...31_536_000
    /// The JSON keys.
    public static let keys = ["memory_bytes", "cpu_seconds", "timeout_seconds"]

    /// Whether no limit is set.
    public var isEmpty: Bool { memoryBytes == nil && cpuSeconds == nil && timeoutSeconds == nil }

    /// These limits under a proplet's settings: a limit the task does not set takes the proplet's value
    /// (its default); a limit above the proplet's value is lowered to it (its ceiling).
    public func applying(proplet: TaskLimits) -> TaskLimits {
        func merge<T: Comparable>(_ own: T?, _ ceiling: T?) -> T? {
            guard let own else { return ceiling }
            guard let ceiling else { return own }
            return min(own, ceiling)
        }
        return TaskLimits(
            memoryBytes: merge(memoryBytes, proplet.memoryBytes),
            cpuSeconds: merge(cpuSeconds, proplet.cpuSeconds),
            timeoutSeconds: merge(timeoutSeconds, proplet.timeoutSeconds)
        )
    }

    /// The error of a task that went past a limit (SPEC §5), e.g. `memory limit of 67108864 bytes exceeded`.
    public enum Exceeded: Sendable, Hashable {
        case memory(bytes: Int64)
        case cpu(seconds: Int)
        case timeout(seconds: Int)

        /// The task's `error` text.
        public var message: String {
            switch self {
            case .memory(let bytes): "memory limit of \(bytes) bytes exceeded"
            case .cpu(let seconds): "cpu limit of \(seconds) seconds exceeded"
            case .timeout(let seconds): "timeout of \(seconds) seconds exceeded"
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case memoryBytes = "memory_bytes"
        case cpuSeconds = "cpu_seconds"
        case timeoutSeconds = "timeout_seconds"
    }

    /// Decodes strictly: integers in range, no other keys.
    public init(from decoder: any Decoder) throws {
        self = try TaskLimits(json: try JSONValue(from: decoder), field: "limits")
    }

    /// Encodes every key; unset limits are explicit nulls.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(memoryBytes, forKey: .memoryBytes)
        try container.encode(cpuSeconds, forKey: .cpuSeconds)
        try container.encode(timeoutSeconds, forKey: .timeoutSeconds)
    }

    /// Validates a parsed `limits` value: null or absent is no limit; otherwise an object with only
    /// `memory_bytes`, `cpu_seconds` and `timeout_seconds`, each null or an integer in its range.
    ///
    /// - Throws: `ContractError` naming the field (`limits.cpu_seconds`) and what is accepted.
    public init(json value: JSONValue?, field: String = "limits") throws(ContractError) {
        self.init()
        guard let value, value != .null else { return }
        guard case .object(let object) = value else {
            throw .invalidValue(
                field: field,
                expected: "an object with memory_bytes, cpu_seconds and/or timeout_seconds",
                got: value.description
            )
        }
        for key in object.keys.sorted() where !Self.keys.contains(key) {
            throw .unknownKey(field: "\(field).\(key)", accepted: Self.keys)
        }
        memoryBytes = try Self.integer(
            object["memory_bytes"],
            field: "\(field).memory_bytes",
            Self.memoryBytesRange,
            "bytes"
        )
        let seconds = Int64(Self.secondsRange.lowerBound)...Int64(Self.secondsRange.upperBound)
        cpuSeconds = try Self.integer(object["cpu_seconds"], field: "\(field).cpu_seconds", seconds, "seconds")
            .map { Int($0) }
        timeoutSeconds = try Self.integer(
            object["timeout_seconds"],
            field: "\(field).timeout_seconds",
            seconds,
            "seconds"
        )
        .map { Int($0) }
    }

    private static func integer(
        _ value: JSONValue?,
        field: String,
        _ range: ClosedRange<Int64>,
        _ unit: String
    ) throws(ContractError) -> Int64? {
        switch value {
        case nil, .null?:
            return nil
        case .integer(let number)? where range.contains(number):
            return number
        case let other?:
            throw .invalidValue(
                field: field,
                expected: "an integer number of \(unit) from \(range.lowerBound) to \(range.upperBound)",
                got: other.description
            )
        }
    }
}
