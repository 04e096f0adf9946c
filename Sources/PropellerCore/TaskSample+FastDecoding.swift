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
        var seen = FieldSet<CodingKeys>()
        let plain = scanner.forEachMember { key, scanner in
            guard let field = CodingKeys.field(named: key) else { return scanner.skipValue() }
            guard seen.insert(field) else { return false }
            switch field {
            case .taskID:
                taskID = scanner.identifier(field: field.rawValue)
                return taskID != nil
            case .propletID:
                propletID = scanner.identifier(field: field.rawValue)
                return propletID != nil
            case .metrics:
                metrics = ProcessMetrics(scanning: &scanner)
                return metrics != nil
            case .aggregated:
                if scanner.consumeNull() { return true }
                aggregated = AggregatedMetrics(scanning: &scanner)
                return aggregated != nil
            case .timestamp:
                timestamp = scanner.utcTimestamp()
                return timestamp != nil
            case .seq:
                if scanner.consumeNull() { return true }
                guard let value = scanner.integer(), value >= 0 else { return false }
                seq = UInt64(value)
                return true
            }
        }
        guard plain, scanner.isAtEnd, let taskID, let propletID, let metrics, let timestamp else { return nil }
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
        var seen = FieldSet<CodingKeys>()
        let plain = scanner.forEachMember { key, scanner in
            guard let field = CodingKeys.field(named: key) else { return scanner.skipValue() }
            guard seen.insert(field) else { return false }
            if scanner.consumeNull() { return true }
            switch field {
            case .cpuPercent: result.cpuPercent = scanner.nonNegativeNumber()
            case .memoryPercent: result.memoryPercent = scanner.nonNegativeNumber()
            case .memoryBytes: result.memoryBytes = scanner.nonNegativeInteger()
            case .diskReadBytes: result.diskReadBytes = scanner.nonNegativeInteger()
            case .diskWriteBytes: result.diskWriteBytes = scanner.nonNegativeInteger()
            case .uptimeSeconds: result.uptimeSeconds = scanner.nonNegativeInteger()
            case .threadCount: result.threadCount = scanner.nonNegativeInteger()
            case .fileDescriptorCount: result.fileDescriptorCount = scanner.nonNegativeInteger()
            }
            return result.has(field)
        }
        guard plain else { return nil }
        self = result
    }

    private func has(_ field: CodingKeys) -> Bool {
        switch field {
        case .cpuPercent: cpuPercent != nil
        case .memoryPercent: memoryPercent != nil
        case .memoryBytes: memoryBytes != nil
        case .diskReadBytes: diskReadBytes != nil
        case .diskWriteBytes: diskWriteBytes != nil
        case .uptimeSeconds: uptimeSeconds != nil
        case .threadCount: threadCount != nil
        case .fileDescriptorCount: fileDescriptorCount != nil
        }
    }
}

extension AggregatedMetrics {
    /// The plain shape of `aggregated`: the seven required fields as non-negative numbers (integers for
    /// the byte totals, the maximum memory and the count), the percentiles absent, null or non-negative.
    init?(scanning scanner: inout JSONScanner) {
        var result = AggregatedMetrics()
        var seen = FieldSet<CodingKeys>()
        let plain = scanner.forEachMember { key, scanner in
            guard let field = CodingKeys.field(named: key) else { return scanner.skipValue() }
            guard seen.insert(field) else { return false }
            switch field {
            case .avgCPUUsage: return scanner.nonNegativeNumber().map { result.avgCPUUsage = $0 } != nil
            case .maxCPUUsage: return scanner.nonNegativeNumber().map { result.maxCPUUsage = $0 } != nil
            case .avgMemoryUsage: return scanner.nonNegativeNumber().map { result.avgMemoryUsage = $0 } != nil
            case .maxMemoryUsage: return scanner.nonNegativeInteger().map { result.maxMemoryUsage = $0 } != nil
            case .totalDiskRead: return scanner.nonNegativeInteger().map { result.totalDiskRead = $0 } != nil
            case .totalDiskWrite: return scanner.nonNegativeInteger().map { result.totalDiskWrite = $0 } != nil
            case .sampleCount: return scanner.nonNegativeInteger().map { result.sampleCount = $0 } != nil
            case .p50CPUUsage:
                return scanner.consumeNull() || scanner.nonNegativeNumber().map { result.p50CPUUsage = $0 } != nil
            case .p95CPUUsage:
                return scanner.consumeNull() || scanner.nonNegativeNumber().map { result.p95CPUUsage = $0 } != nil
            case .p95MemoryUsage:
                return scanner.consumeNull() || scanner.nonNegativeNumber().map { result.p95MemoryUsage = $0 } != nil
            }
        }
        let required: [CodingKeys] = [
            .avgCPUUsage, .maxCPUUsage, .avgMemoryUsage, .maxMemoryUsage, .totalDiskRead, .totalDiskWrite, .sampleCount,
        ]
        guard plain, required.allSatisfy(seen.contains) else { return nil }
        self = result
    }
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
