/// The MQTT topics of SPEC §2 for one domain and channel: `m/{domain_id}/c/{channel_id}/…`.
public struct Topics: Sendable, Hashable {
    /// The kinds of message, by topic suffix.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case propletCreate = "control/proplet/create"
        case propletAlive = "control/proplet/alive"
        case managerStart = "control/manager/start"
        case managerStop = "control/manager/stop"
        case propletResults = "control/proplet/results"
        case propletTaskMetrics = "control/proplet/task_metrics"
        case propletMetrics = "control/proplet/metrics"
        case metricsProplet = "metrics/proplet"
    }

    public let domainID: String
    public let channelID: String

    /// Creates the topic set; both ids default to `default` (SPEC §6).
    public init(domainID: String = "default", channelID: String = "default") {
        self.domainID = domainID
        self.channelID = channelID
    }

    /// `m/{domain}/c/{channel}/`.
    public var base: String { "m/\(domainID)/c/\(channelID)/" }

    /// The full topic of a kind of message.
    public func topic(_ kind: Kind) -> String { base + kind.rawValue }

    /// The filter for every metrics topic of every domain and channel: `m/+/c/+/metrics/#`.
    public static let allMetricsFilter = "m/+/c/+/metrics/#"

    /// A received topic taken apart.
    public struct Parsed: Sendable, Hashable {
        public var domainID: String
        public var channelID: String
        public var kind: Kind
    }

    /// Parses a topic of the form `m/{domain}/c/{channel}/{suffix}`; nil for any other topic.
    public static func parse(_ topic: String) -> Parsed? {
        let parts = topic.split(separator: "/", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "m", parts[2] == "c", !parts[1].isEmpty, !parts[3].isEmpty,
            let kind = Kind(rawValue: String(parts[4]))
        else { return nil }
        return Parsed(domainID: String(parts[1]), channelID: String(parts[3]), kind: kind)
    }

    /// Parses a topic and accepts it only when it belongs to this domain and channel.
    public func kind(of topic: String) -> Kind? {
        guard let parsed = Self.parse(topic), parsed.domainID == domainID, parsed.channelID == channelID else {
            return nil
        }
        return parsed.kind
    }
}
