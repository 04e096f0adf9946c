import Foundation

/// The manager's API security and HTTP limits (SPEC §7), read with the rest of `ManagerConfiguration`.
public struct ManagerSecurityConfiguration: Sendable, Hashable {
    /// `MANAGER_API_TOKENS_FILE`: where the tokens were read from. Default unset (no tokens).
    public var apiTokensFile: String?
    /// The tokens of `apiTokensFile`; `.none` turns authentication off.
    public var apiTokens = APITokens.none
    /// `MANAGER_ALLOW_UNAUTHENTICATED=true`: listen on a non-loopback address without tokens anyway.
    /// Default false (such a start is refused).
    public var allowUnauthenticated = false
    /// `MANAGER_TLS_CERT_FILE`: the server certificate chain (PEM); with the key, the API is HTTPS.
    public var tlsCertificateFile: String?
    /// `MANAGER_TLS_KEY_FILE`: the server's private key (PEM).
    public var tlsKeyFile: String?
    /// `MANAGER_HTTP_IDLE_TIMEOUT`: seconds a connection may send nothing (while its request headers
    /// or body are due, or between requests) before it is closed. Default 10.
    public var idleTimeoutSeconds = 10
    /// `MANAGER_HTTP_MAX_CONNECTIONS`: concurrent connections served; more are closed at once.
    /// Default 1024.
    public var maxConnections = 1024

    /// The defaults.
    public init() {}

    /// Whether the API is served over HTTPS.
    public var usesTLS: Bool { tlsCertificateFile != nil }

    /// Whether `host` is a loopback address or `localhost`.
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    /// Reads the variables above; `host` is `MANAGER_HTTP_HOST`, checked against the token rule.
    ///
    /// - Throws: `ConfigurationError` naming the variable: an unreadable or malformed tokens file, a
    ///   certificate without a key (or the reverse), a bad number, or a non-loopback host without
    ///   tokens and without `MANAGER_ALLOW_UNAUTHENTICATED=true`.
    init(environment: [String: String], host: String) throws(ConfigurationError) {
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        if let path = value("MANAGER_API_TOKENS_FILE") {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(
                    variable: "MANAGER_API_TOKENS_FILE",
                    value: path,
                    expected: "a readable file of `TOKEN ROLE` lines (role admin or read)"
                )
            }
            do {
                apiTokens = try APITokens(parsing: String(decoding: data, as: UTF8.self))
            } catch {
                throw ConfigurationError(variable: "MANAGER_API_TOKENS_FILE", value: path, expected: "\(error)")
            }
            apiTokensFile = path
        }
        if let flag = value("MANAGER_ALLOW_UNAUTHENTICATED") {
            switch flag.lowercased() {
            case "true", "1", "yes": allowUnauthenticated = true
            case "false", "0", "no": allowUnauthenticated = false
            default:
                throw ConfigurationError(
                    variable: "MANAGER_ALLOW_UNAUTHENTICATED",
                    value: flag,
                    expected: "true or false"
                )
            }
        }
        tlsCertificateFile = value("MANAGER_TLS_CERT_FILE")
        tlsKeyFile = value("MANAGER_TLS_KEY_FILE")
        if (tlsCertificateFile == nil) != (tlsKeyFile == nil) {
            throw ConfigurationError(
                variable: tlsCertificateFile == nil ? "MANAGER_TLS_CERT_FILE" : "MANAGER_TLS_KEY_FILE",
                value: "",
                expected: "MANAGER_TLS_CERT_FILE and MANAGER_TLS_KEY_FILE set together"
            )
        }
        for (name, path) in [("MANAGER_TLS_CERT_FILE", tlsCertificateFile), ("MANAGER_TLS_KEY_FILE", tlsKeyFile)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw ConfigurationError(variable: name, value: path, expected: "a readable PEM file")
            }
        }
        idleTimeoutSeconds = try Self.integer(environment, "MANAGER_HTTP_IDLE_TIMEOUT", 1...3600) ?? idleTimeoutSeconds
        maxConnections = try Self.integer(environment, "MANAGER_HTTP_MAX_CONNECTIONS", 1...1_000_000) ?? maxConnections
        if !Self.isLoopback(host) && !apiTokens.isEnabled && !allowUnauthenticated {
            throw ConfigurationError(
                variable: "MANAGER_HTTP_HOST",
                value: host,
                expected: "a loopback address unless MANAGER_API_TOKENS_FILE is set "
                    + "(or MANAGER_ALLOW_UNAUTHENTICATED=true accepts an open API on the network)"
            )
        }
    }

    private static func integer(
        _ environment: [String: String],
        _ name: String,
        _ range: ClosedRange<Int>
    ) throws(ConfigurationError) -> Int? {
        guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        let digits = text.hasSuffix("s") && name.hasSuffix("TIMEOUT") ? String(text.dropLast()) : text
        guard let number = Int(digits), range.contains(number) else {
            throw ConfigurationError(
                variable: name,
                value: text,
                expected: "an integer from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return number
    }
}
