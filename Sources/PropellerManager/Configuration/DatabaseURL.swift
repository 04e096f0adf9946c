import Foundation

/// A PostgreSQL address as `MANAGER_DATABASE_URL` gives it (SPEC §6):
/// `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (also `postgresql://`).
///
/// - User, password and database may be percent-encoded (`p%40ss` is `p@ss`); the password may be
///   left out (for `trust` or `peer`-less setups), the port defaults to 5432.
/// - One query parameter is understood, libpq's `sslmode`: `disable`, `prefer` (the default: TLS when
///   the server offers it, without checking its certificate, like libpq), `require` (TLS or fail,
///   certificate not checked) and `verify-full` (TLS with the certificate checked against the system's
///   trust roots and the host name). Any other parameter is an error, so a typo is not silently ignored.
public struct DatabaseURL: Sendable, Hashable, CustomStringConvertible {
    /// How the connection uses TLS (libpq's `sslmode` values).
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        case disable
        case prefer
        case require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// The accepted form, for error messages.
    public static let expectedForm =
        "postgres://USER:PASSWORD@HOST:PORT/DATABASE (port 1…65535, optional ?sslmode=disable|prefer|require|verify-full)"

    /// Parses `text`; nil when it is not of the accepted form (`expectedForm`).
    public init?(_ text: String) {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql",
            let host = components.host, !host.isEmpty,
            let user = components.user, !user.isEmpty
        else { return nil }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { return nil }
        var path = components.path
        if path.hasPrefix("/") { path.removeFirst() }
        guard !path.isEmpty, !path.contains("/") else { return nil }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode", let value = item.value, let mode = TLSMode(rawValue: value) else {
                return nil
            }
            tls = mode
        }
        self.host = host
        self.port = port
        self.user = user
        self.password = components.password
        self.database = path
        self.tls = tls
    }

    /// The URL with the password replaced by `***`: safe to log and to put in error messages.
    public var description: String {
        let credentials = password == nil ? user : "\(user):***"
        let query = tls == .prefer ? "" : "?sslmode=\(tls.rawValue)"
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(credentials)@\(hostPart):\(port)/\(database)\(query)"
    }
}
