/// A type with a hand-written decoder for its common wire shape, tried before the Codable one.
///
/// The fast decoder accepts only what the Codable decoder accepts, and decodes it to the same value
/// (a test compares the two on random and mutated payloads); for anything else it answers nil and
/// `WireCoding.decode` runs the Codable decoder, which accepts or rejects the payload with its usual
/// error. The manager decodes every sample message this way: Foundation's `JSONDecoder` was about a
/// quarter of its CPU per sample (docs/benchmarks.md).
protocol FastJSONDecodable: Decodable {
    /// The value, or nil when the payload is not in the plain shape the fast path reads.
    init?(fastJSON bytes: [UInt8])
}

extension TaskSample: FastJSONDecodable {
    init?(fastJSON bytes: [UInt8]) {
        var scanner = JSONScanner(bytes)
        var taskID: String?
        var propletID: String?
        var metrics: ProcessMetrics?
        var aggregated: AggregatedMetrics?
        var timestamp: Timestamp?
        var seq: UInt64?
        let seen = scanner.fields(CodingKeys.self) { field, scanner in
            switch field {
            case .taskID: return assign(scanner.identifier(field: field.rawValue), to: &taskID)
            case .propletID: return assign(scanner.identifier(field: field.rawValue), to: &propletID)
            case .metrics: return assign(ProcessMetrics(scanning: &scanner), to: &metrics)
            case .aggregated:
                return scanner.consumeNull() || assign(AggregatedMetrics(scanning: &scanner), to: &aggregated)
            case .timestamp: return assign(scanner.utcTimestamp(), to: &timestamp)
            case .seq: return scanner.consumeNull() || assign(scanner.nonNegativeInteger().map(UInt64.init), to: &seq)
            }
        }
        guard seen != nil, scanner.isAtEnd, let taskID, let propletID, let metrics, let timestamp else { return nil }
        self.init(
            taskID: taskID,
            propletID: propletID,
            metrics: metrics,
            aggregated: aggregated,
            timestamp: timestamp,
            seq: seq
        )
    }
}

extension ProcessMetrics {
    /// The plain shape of `metrics`: every field absent, null or a non-negative number (an integer for
    /// the counters); nil otherwise.
    init?(scanning scanner: inout JSONScanner) {
        var result = ProcessMetrics()
        let seen = scanner.fields(CodingKeys.self) { field, scanner in
            if scanner.consumeNull() { return true }
            switch field {
            case .cpuPercent: return assign(scanner.nonNegativeNumber(), to: &result.cpuPercent)
            case .memoryPercent: return assign(scanner.nonNegativeNumber(), to: &result.memoryPercent)
            case .memoryBytes: return assign(scanner.nonNegativeInteger(), to: &result.memoryBytes)
            case .diskReadBytes: return assign(scanner.nonNegativeInteger(), to: &result.diskReadBytes)
            case .diskWriteBytes: return assign(scanner.nonNegativeInteger(), to: &result.diskWriteBytes)
            case .uptimeSeconds: return assign(scanner.nonNegativeInteger(), to: &result.uptimeSeconds)
            case .threadCount: return assign(scanner.nonNegativeInteger(), to: &result.threadCount)
            case .fileDescriptorCount: return assign(scanner.nonNegativeInteger(), to: &result.fileDescriptorCount)
            }
        }
        guard seen != nil else { return nil }
        self = result
    }
}

extension AggregatedMetrics {
    /// The plain shape of `aggregated`: the seven required fields as non-negative numbers (integers for
    /// the byte totals, the maximum memory and the count), the percentiles absent, null or non-negative.
    init?(scanning scanner: inout JSONScanner) {
        var result = AggregatedMetrics()
        let seen = scanner.fields(CodingKeys.self) { field, scanner in
            switch field {
            case .avgCPUUsage: return assign(scanner.nonNegativeNumber(), to: &result.avgCPUUsage)
            case .maxCPUUsage: return assign(scanner.nonNegativeNumber(), to: &result.maxCPUUsage)
            case .avgMemoryUsage: return assign(scanner.nonNegativeNumber(), to: &result.avgMemoryUsage)
            case .maxMemoryUsage: return assign(scanner.nonNegativeInteger(), to: &result.maxMemoryUsage)
            case .totalDiskRead: return assign(scanner.nonNegativeInteger(), to: &result.totalDiskRead)
            case .totalDiskWrite: return assign(scanner.nonNegativeInteger(), to: &result.totalDiskWrite)
            case .sampleCount: return assign(scanner.nonNegativeInteger(), to: &result.sampleCount)
            case .p50CPUUsage:
                return scanner.consumeNull() || assign(scanner.nonNegativeNumber(), to: &result.p50CPUUsage)
            case .p95CPUUsage:
                return scanner.consumeNull() || assign(scanner.nonNegativeNumber(), to: &result.p95CPUUsage)
            case .p95MemoryUsage:
                return scanner.consumeNull() || assign(scanner.nonNegativeNumber(), to: &result.p95MemoryUsage)
            }
        }
        let required: [CodingKeys] = [
            .avgCPUUsage, .maxCPUUsage, .avgMemoryUsage, .maxMemoryUsage, .totalDiskRead, .totalDiskWrite, .sampleCount,
        ]
        guard let seen, required.allSatisfy(seen.contains) else { return nil }
        self = result
    }
}

/// Stores a value read by the scanner; false (and nothing stored) when it read none.
private func assign<T>(_ value: T?, to target: inout T) -> Bool {
    guard let value else { return false }
    target = value
    return true
}

/// The same for an optional field.
private func assign<T>(_ value: T?, to target: inout T?) -> Bool {
    guard let value else { return false }
    target = value
    return true
}

/// Which fields of a `CodingKeys` enum an object has named, as bits (the enums have at most 64 cases).
struct FieldSet<Key: CaseIterable & Equatable> {
    private var bits: UInt64 = 0

    /// Adds `key`; false when it was already there (a repeated key).
    mutating func insert(_ key: Key) -> Bool {
        let bit = Self.bit(key)
        defer { bits |= bit }
        return bits & bit == 0
    }

    func contains(_ key: Key) -> Bool { bits & Self.bit(key) != 0 }

    private static func bit(_ key: Key) -> UInt64 {
        let position = Key.allCases.firstIndex(of: key).map {
            Key.allCases.distance(from: Key.allCases.startIndex, to: $0)
        }
        return 1 << UInt64(position ?? 0)
    }
}

extension CaseIterable where Self: RawRepresentable, RawValue == String {
    /// The case whose name is `bytes` (UTF-8); nil for an unknown key.
    static func field(named bytes: ArraySlice<UInt8>) -> Self? {
        allCases.first { $0.rawValue.utf8.elementsEqual(bytes) }
    }
}

extension JSONScanner {
    /// Reads an object keyed by `Key`: an unknown key's value is skipped, a repeated key makes the
    /// object not plain, and `member` reads each known key's value (false: not plain). The keys the
    /// object named, or nil when it is not a plain object.
    mutating func fields<Key: CaseIterable & Equatable & RawRepresentable>(
        _ key: Key.Type,
        _ member: (Key, inout JSONScanner) -> Bool
    ) -> FieldSet<Key>? where Key.RawValue == String {
        var seen = FieldSet<Key>()
        let plain = forEachMember { name, scanner in
            guard let field = Key.field(named: name) else { return scanner.skipValue() }
            guard seen.insert(field) else { return false }
            return member(field, &scanner)
        }
        return plain ? seen : nil
    }

    /// A plain string that passes `Identifier.validate`; nil otherwise.
    mutating func identifier(field: String) -> String? {
        guard let value = plainString(), (try? Identifier.validate(value, field: field)) != nil else { return nil }
        return value
    }

    /// A plain string that is an RFC 3339 timestamp in UTC; nil otherwise.
    mutating func utcTimestamp() -> Timestamp? {
        guard let text = plainString(), Timestamp.isUTC(text) else { return nil }
        return Timestamp(rfc3339: text)
    }

    /// A finite number ≥ 0; nil otherwise.
    mutating func nonNegativeNumber() -> Double? {
        guard let value = number(), value >= 0 else { return nil }
        return value
    }

    /// An integer literal ≥ 0 that fits in 64 bits; nil otherwise.
    mutating func nonNegativeInteger() -> Int64? {
        guard let value = integer(), value >= 0 else { return nil }
        return value
    }
}
