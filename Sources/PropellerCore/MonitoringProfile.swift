/// How often a task is sampled, which metrics are collected, and how much history the proplet keeps
/// (SPEC §3).
///
/// On the wire it is always the full object; in a task request it may also be a partial object or a
/// built-in profile name (see `MonitoringProfile.resolve(_:daemon:)`).
public struct MonitoringProfile: Sendable, Hashable, Codable {
    /// Whether the task is monitored at all.
    public var enabled: Bool
    /// Seconds between samples, 1…120.
    public var interval: Int
    public var collectCPU: Bool
    public var collectMemory: Bool
    public var collectDiskIO: Bool
    public var collectThreads: Bool
    public var collectFileDescriptors: Bool
    /// Whether every sample is published over MQTT (the final sample always reaches the manager).
    public var exportToMQTT: Bool
    /// Whether the proplet keeps a history window and sends `aggregated` with each sample.
    public var retainHistory: Bool
    /// Samples in the history window, 0…10000 (≥ 1 when `retainHistory`).
    public var historySize: Int

    /// Accepted range of `interval`, in seconds.
    public static let intervalRange = 1...120
    /// Accepted range of `history_size`.
    public static let historySizeRange = 0...10_000

    public init(
        enabled: Bool = true,
        interval: Int,
        collectCPU: Bool = true,
        collectMemory: Bool = true,
        collectDiskIO: Bool,
        collectThreads: Bool,
        collectFileDescriptors: Bool,
        exportToMQTT: Bool,
        retainHistory: Bool,
        historySize: Int
    ) {
        self.enabled = enabled
        self.interval = interval
        self.collectCPU = collectCPU
        self.collectMemory = collectMemory
        self.collectDiskIO = collectDiskIO
        self.collectThreads = collectThreads
        self.collectFileDescriptors = collectFileDescriptors
        self.exportToMQTT = exportToMQTT
        self.retainHistory = retainHistory
        self.historySize = historySize
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, interval
        case collectCPU = "collect_cpu"
        case collectMemory = "collect_memory"
        case collectDiskIO = "collect_disk_io"
        case collectThreads = "collect_threads"
        case collectFileDescriptors = "collect_file_descriptors"
        case exportToMQTT = "export_to_mqtt"
        case retainHistory = "retain_history"
        case historySize = "history_size"
    }

    /// Every key of the full JSON form.
    public static let keys = CodingKeys.allCases.map(\.rawValue)

    /// Decodes the full object strictly: every key present, no unknown key, values validated.
    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        guard case .object(let object) = value else {
            throw ContractError.invalidValue(
                field: "monitoring_profile",
                expected: "an object with keys \(Self.keys.joined(separator: ", "))",
                got: value.description
            )
        }
        for key in Self.keys where object[key] == nil {
            throw ContractError.missingField(field: "monitoring_profile.\(key)")
        }
        self = try MonitoringProfile.standard.applying(overrides: object)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(enabled, forKey: .enabled)
        try container.encode(interval, forKey: .interval)
        try container.encode(collectCPU, forKey: .collectCPU)
        try container.encode(collectMemory, forKey: .collectMemory)
        try container.encode(collectDiskIO, forKey: .collectDiskIO)
        try container.encode(collectThreads, forKey: .collectThreads)
        try container.encode(collectFileDescriptors, forKey: .collectFileDescriptors)
        try container.encode(exportToMQTT, forKey: .exportToMQTT)
        try container.encode(retainHistory, forKey: .retainHistory)
        try container.encode(historySize, forKey: .historySize)
    }
}
