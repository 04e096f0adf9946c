/// Writes the Prometheus text exposition format 0.0.4: one `# HELP` and one `# TYPE` line per family,
/// then its samples. Label values are escaped (`\\`, `\"`, `\n`); values use Swift's shortest
/// round-trip form, which Prometheus parses exactly.
struct PrometheusText {
    /// The kinds of family written here.
    enum Kind: String {
        case gauge, counter
    }

    private(set) var bytes: [UInt8] = []

    /// Starts a family: its help (from `MetricHelp`) and type.
    mutating func family(_ name: String, _ kind: Kind) {
        append("# HELP \(name) \(Self.escapeHelp(MetricHelp.text(of: name)))\n")
        append("# TYPE \(name) \(kind.rawValue)\n")
    }

    /// Writes a family with all its samples; writes nothing when there is none.
    mutating func family(_ name: String, _ kind: Kind, samples: [(labels: [(String, String)], value: Double)]) {
        guard !samples.isEmpty else { return }
        family(name, kind)
        for sample in samples { self.sample(name, sample.labels, sample.value) }
    }

    /// One sample line.
    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        var line = name
        if !labels.isEmpty {
            line += "{"
            line += labels.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",")
            line += "}"
        }
        line += " " + Self.format(value) + "\n"
        append(line)
    }

    /// Appends already formatted exposition text (the registry's).
    mutating func append(bytes other: [UInt8]) { bytes += other }

    private mutating func append(_ text: String) { bytes += Array(text.utf8) }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func escapeLabel(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    static func escapeHelp(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
