import PropellerCore

/// A value of an environment variable that does not parse: names the variable, what was given and what
/// is accepted.
public struct EnvironmentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The environment variable.
    public var variable: String
    /// The rejected value.
    public var value: String
    /// What the variable accepts.
    public var expected: String

    /// Creates the error for `variable`, its rejected `value` and what it accepts.
    public init(variable: String, value: String, expected: String) {
        self.variable = variable
        self.value = value
        self.expected = expected
    }

    /// `NAME="value" is invalid: expected …`.
    public var description: String { "\(variable)=\"\(value)\" is invalid: expected \(expected)" }
}

/// The one parser of environment variables for both services: the shared variables (`PROPELLER_MQTT_URL`,
/// `PROPELLER_DOMAIN_ID`, `PROPELLER_CHANNEL_ID`, …) and the value kinds every service uses (durations
/// in whole seconds, integers, flags, identifiers). Unset or empty (after trimming whitespace) is nil;
/// a value that does not parse is an `EnvironmentError` naming the variable.
public struct EnvironmentParser: Sendable {
    public var environment: [String: String]

    public init(_ environment: [String: String]) {
        self.environment = environment
    }

    /// The trimmed value; nil when unset or empty.
    public func string(_ name: String) -> String? {
        guard let raw = environment[name] else { return nil }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = raw.firstIndex(where: { !isSpace($0) }), let last = raw.lastIndex(where: { !isSpace($0) })
        else { return nil }
        return String(raw[first...last])
    }

    /// A broker URL: `mqtt://`, `tcp://` (plain) or `mqtts://`, `ssl://` (TLS), `HOST[:PORT]`.
    public func mqttURL(_ name: String = "PROPELLER_MQTT_URL") throws(EnvironmentError) -> String? {
        guard let url = string(name) else { return nil }
        do {
            _ = try MQTTBrokerAddress(url: url)
        } catch {
            let reason: String
            if case .invalidURL(_, let why) = error { reason = why } else { reason = "\(error)" }
            throw EnvironmentError(
                variable: name,
                value: url,
                expected: "a broker URL mqtt://HOST:PORT (or tcp://; mqtts:// or ssl:// for TLS): \(reason)"
            )
        }
        return url
    }

    /// A domain or channel id (one MQTT topic level).
    public func topicLevel(_ name: String) throws(EnvironmentError) -> String? {
        guard let text = string(name) else { return nil }
        do {
            try Identifier.validate(text, field: name)
        } catch {
            throw EnvironmentError(
                variable: name,
                value: text,
                expected: "one topic level: a non-empty identifier of at most 128 characters without '/', '+', '#'"
            )
        }
        return text
    }

    /// An identifier (a client or proplet id): the same rule as a topic level.
    public func identifier(_ name: String) throws(EnvironmentError) -> String? {
        try topicLevel(name)
    }

    /// A duration in whole seconds, optionally with an `s` suffix (`30` or `30s`), within `range`.
    public func seconds(_ name: String, in range: ClosedRange<Int>) throws(EnvironmentError) -> Int? {
        guard let text = string(name) else { return nil }
        return try Self.seconds(text, variable: name, in: range)
    }

    /// The duration parser: whole seconds, optionally with an `s` suffix, within `range`; an error names
    /// `variable`.
    public static func seconds(_ text: String, variable: String, in range: ClosedRange<Int>) throws(EnvironmentError)
        -> Int
    {
        let digits = text.hasSuffix("s") ? text.dropLast() : Substring(text)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Int(digits),
            range.contains(value)
        else {
            throw EnvironmentError(
                variable: variable,
                value: text,
                expected: "whole seconds from \(range.lowerBound) to \(range.upperBound), like 10 or 10s"
            )
        }
        return value
    }

    /// An integer within `range`.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws(EnvironmentError) -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw EnvironmentError(
                variable: name,
                value: text,
                expected: "an integer from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return value
    }

    /// `true/false/1/0/yes/no` (any case).
    public func boolean(_ name: String) throws(EnvironmentError) -> Bool? {
        guard let text = string(name) else { return nil }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw EnvironmentError(variable: name, value: text, expected: "true, false, 1, 0, yes or no")
        }
    }
}
