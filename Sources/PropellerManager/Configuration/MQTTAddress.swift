/// A broker address parsed from `PROPELLER_MQTT_URL`: `mqtt://HOST:PORT` or `tcp://HOST:PORT`, or
/// with TLS `mqtts://HOST:PORT` or `ssl://HOST:PORT`.
///
/// The port defaults to 1883 (8883 with TLS) when omitted.
public struct MQTTAddress: Sendable, Hashable {
    /// Host name or IP address.
    public var host: String
    /// TCP port, 1…65535 (default 1883, or 8883 with TLS).
    public var port: Int
    /// Whether the URL asks for TLS (`mqtts://`, `ssl://`).
    public var usesTLS: Bool

    /// Parses a URL; nil when the scheme, host or port is not acceptable.
    public init?(_ url: String) {
        let schemes = ["mqtt://", "tcp://", "mqtts://", "ssl://"]
        guard let scheme = schemes.first(where: { url.lowercased().hasPrefix($0) }) else { return nil }
        usesTLS = scheme == "mqtts://" || scheme == "ssl://"
        var rest = url.dropFirst(scheme.count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@") else { return nil }
        if let colon = rest.lastIndex(of: ":") {
            guard let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else { return nil }
            host = String(rest[..<colon])
            self.port = port
        } else {
            host = String(rest)
            port = usesTLS ? 8883 : 1883
        }
        guard !host.isEmpty, !host.contains(":") else { return nil }
    }
}
