import Foundation

/// Host, port and transport parsed from an `mqtt://` or `mqtts://` URL.
struct MQTTBrokerAddress: Sendable, Hashable {
    var host: String
    var port: Int
    var usesTLS: Bool

    /// Parses `mqtt://host[:port]` (default 1883) or `mqtts://host[:port]` (default 8883). A path,
    /// query or credentials in the URL are refused: credentials belong in the configuration.
    init(url: String) throws(MQTTError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw .invalidURL(url, reason: "expected mqtt://host:port or mqtts://host:port")
        }
        switch scheme {
        case "mqtt", "tcp": usesTLS = false
        case "mqtts", "ssl": usesTLS = true
        default: throw .invalidURL(url, reason: "scheme '\(scheme)' is not supported; use mqtt:// or mqtts://")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .invalidURL(url, reason: "the host is missing; expected mqtt://host:port")
        }
        guard components.user == nil, components.password == nil else {
            throw .invalidURL(url, reason: "put the username and password in the configuration, not in the URL")
        }
        guard components.path.isEmpty || components.path == "/", components.query == nil else {
            throw .invalidURL(url, reason: "a path or query is not accepted; expected mqtt://host:port")
        }
        if let port = components.port {
            guard (1...65_535).contains(port) else {
                throw .invalidURL(url, reason: "port must be from 1 to 65535, got \(port)")
            }
            self.port = port
        } else {
            self.port = usesTLS ? 8883 : 1883
        }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
    }
}
