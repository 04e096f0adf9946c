/// The MQTT topics of SPEC §2 for one domain and channel: `m/{domain_id}/c/{channel_id}/…`.
///
/// Every message for or from one proplet has the proplet's id in its topic
/// (`control/proplet/{id}/create`, `control/manager/{id}/start`, …), so a broker ACL can confine each
/// proplet to its own topics. The three topics the monitoring seed names keep their exact names.
public struct Topics: Sendable, Hashable {
    /// The kinds of message. The raw value is the topic after the base, with `{id}` standing for the
    /// proplet id in the per-proplet kinds.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Registration, proplet → manager.
        case propletCreate = "control/proplet/{id}/create"
        /// Heartbeat and last will, proplet → manager.
        case propletAlive = "control/proplet/{id}/alive"
        /// A task's results, proplet → manager.
        case propletResults = "control/proplet/{id}/results"
        /// Task-level samples, proplet → manager (seed name, shared by all proplets).
        case propletTaskMetrics = "control/proplet/task_metrics"
        /// Proplet-level samples, proplet → manager (seed name, shared by all proplets).
        case propletMetrics = "control/proplet/metrics"
        /// Task-level samples for external consumers (seed name, QoS 0).
        case metricsProplet = "metrics/proplet"
        /// Start command, manager → that proplet.
        case managerStart = "control/manager/{id}/start"
        /// Stop command, manager → that proplet.
        case managerStop = "control/manager/{id}/stop"
        /// Acknowledgement of committed messages, manager → that proplet.
        case managerAck = "control/manager/{id}/ack"
        /// A manager (re)connected, manager → all proplets.
        case managerHello = "control/manager/hello"

        /// Whether the topic carries a proplet id.
        public var isPerProplet: Bool { rawValue.contains("{id}") }

        /// The levels before and after `{id}` (the whole suffix and nil for a shared topic).
        var pattern: (prefix: String, suffix: String?) {
            guard let range = rawValue.firstRange(of: "{id}") else { return (rawValue, nil) }
            return (String(rawValue[..<range.lowerBound]), String(rawValue[range.upperBound...]))
        }
    }

    public let domainID: String
    public let channelID: String

    /// Creates the topic set; both ids default to `default` (SPEC §6).
    public init(domainID: String = "default", channelID: String = "default") {
        self.domainID = domainID
        self.channelID = channelID
        base = "m/\(domainID)/c/\(channelID)/"
    }

    /// `m/{domain}/c/{channel}/` (built once: every received topic is compared with it).
    public let base: String

    /// The full topic of a shared kind (`propletTaskMetrics`, `propletMetrics`, `metricsProplet`,
    /// `managerHello`). A per-proplet kind needs `topic(_:propletID:)`; given one here, this returns
    /// its filter for every proplet (`…/control/proplet/+/alive`), which can be subscribed to but not
    /// published on.
    public func topic(_ kind: Kind) -> String {
        kind.isPerProplet ? filter(kind) : base + kind.rawValue
    }

    /// The full topic of a kind for one proplet (the id is ignored by shared kinds).
    public func topic(_ kind: Kind, propletID: String) -> String {
        let (prefix, suffix) = kind.pattern
        guard let suffix else { return base + prefix }
        return base + prefix + propletID + suffix
    }

    /// The filter matching one kind for every proplet (`…/control/proplet/+/alive`).
    public func filter(_ kind: Kind) -> String { topic(kind, propletID: "+") }

    /// The filter for every metrics topic of every domain and channel: `m/+/c/+/metrics/#`.
    public static let allMetricsFilter = "m/+/c/+/metrics/#"

    /// A received topic taken apart.
    public struct Parsed: Sendable, Hashable {
        public var domainID: String
        public var channelID: String
        public var kind: Kind
        /// The proplet id of a per-proplet topic; nil for a shared one.
        public var propletID: String?
    }

    /// Parses a topic of the form `m/{domain}/c/{channel}/{suffix}`; nil for any other topic.
    public static func parse(_ topic: String) -> Parsed? {
        let parts = topic.split(separator: "/", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "m", parts[2] == "c", !parts[1].isEmpty, !parts[3].isEmpty,
            let (kind, propletID) = parseSuffix(parts[4])
        else { return nil }
        return Parsed(domainID: String(parts[1]), channelID: String(parts[3]), kind: kind, propletID: propletID)
    }

    /// The kind (and proplet id) of a topic suffix after the base; nil for an unknown suffix. Compared
    /// as bytes (MQTT topics are), against patterns split once: the manager parses every message's topic.
    public static func parseSuffix(_ suffix: Substring) -> (Kind, String?)? {
        let bytes = suffix.utf8
        for pattern in KindPattern.all {
            guard let end = pattern.end else {
                if bytes.elementsEqual(pattern.prefix) { return (pattern.kind, nil) }
                continue
            }
            guard bytes.count > pattern.prefix.count + end.count, bytes.starts(with: pattern.prefix),
                bytes.suffix(end.count).elementsEqual(end)
            else { continue }
            let id = bytes.dropFirst(pattern.prefix.count).dropLast(end.count)
            guard !id.contains(UInt8(ascii: "/")) else { continue }
            return (pattern.kind, String(Substring(id)))
        }
        return nil
    }

    /// A kind's raw value split at `{id}`, as bytes.
    private struct KindPattern: Sendable {
        let kind: Kind
        let prefix: [UInt8]
        /// After `{id}`; nil for a shared kind (whose `prefix` is the whole suffix).
        let end: [UInt8]?

        static let all: [KindPattern] = Kind.allCases.map { kind in
            let (prefix, end) = kind.pattern
            return KindPattern(kind: kind, prefix: Array(prefix.utf8), end: end.map { Array($0.utf8) })
        }
    }

    /// Parses a topic and accepts it only when it belongs to this domain and channel.
    public func parse(_ topic: String) -> (kind: Kind, propletID: String?)? {
        guard topic.utf8.starts(with: base.utf8) else { return nil }
        let suffix = topic.utf8.dropFirst(base.utf8.count)
        guard let parsed = Self.parseSuffix(Substring(suffix)) else { return nil }
        return (parsed.0, parsed.1)
    }

    /// The kind of a topic of this domain and channel; nil for any other topic.
    public func kind(of topic: String) -> Kind? { parse(topic)?.kind }
}
