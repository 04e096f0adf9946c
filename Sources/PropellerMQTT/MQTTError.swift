/// Errors of the MQTT client. Every case names the broker it concerns.
public enum MQTTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configured URL cannot be used; `reason` says what is accepted.
    case invalidURL(String, reason: String)
    /// The broker answered the connection with a refusal that retrying will not fix (bad username or
    /// password, not authorised, client identifier rejected, protocol version not accepted).
    case connectionRefused(url: String, reason: String)
    /// libmosquitto rejected the configuration (will, credentials, TLS files) before connecting.
    case configurationRejected(url: String, reason: String)
    /// A topic name for `publish` is empty, contains `+`/`#` or a NUL, or is longer than 65,535 bytes.
    case invalidTopic(url: String, topic: String)
    /// A subscription filter is not a valid MQTT filter (`#` only as the last level, wildcards only as
    /// whole levels).
    case invalidTopicFilter(url: String, filter: String)
    /// The payload is larger than MQTT allows (268,435,455 bytes).
    case payloadTooLarge(url: String, bytes: Int)
    /// The client was disconnected with `disconnect()` and cannot be used any more.
    case clientStopped(url: String)

    /// A message naming the broker, what went wrong and what is accepted.
    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            return "invalid MQTT broker URL '\(url)': \(reason)"
        case .connectionRefused(let url, let reason):
            return "MQTT broker \(url) refused the connection: \(reason)"
        case .configurationRejected(let url, let reason):
            return "MQTT client for \(url) could not be configured: \(reason)"
        case .invalidTopic(let url, let topic):
            return "cannot publish to '\(topic)' on \(url): a topic must be 1 to 65,535 bytes without '+', '#' or NUL"
        case .invalidTopicFilter(let url, let filter):
            return
                "cannot subscribe to '\(filter)' on \(url): '+' and '#' must fill a whole level and '#' must be last"
        case .payloadTooLarge(let url, let bytes):
            return "cannot publish \(bytes) bytes to \(url): MQTT allows at most 268,435,455 bytes"
        case .clientStopped(let url):
            return "MQTT client for \(url) has been disconnected and cannot be used again"
        }
    }
}
