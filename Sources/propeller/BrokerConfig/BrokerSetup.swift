import Foundation

/// What `propeller broker-config` writes: a Mosquitto configuration, an ACL and the clients'
/// credentials, for one domain and channel (SPEC §7).
///
/// The ACL gives each manager `control/#` (read and write); proplet P write on
/// `control/proplet/P/#`, the three shared sample topics and `metrics/proplet`, and read on
/// `control/manager/P/#` and `control/manager/hello` — nothing else; and, when
/// `anonymousMetrics` is on, anonymous clients read-only access to `m/+/c/+/metrics/#`.
struct BrokerSetup: Sendable {
    /// One broker identity: its username and generated password.
    struct Identity: Sendable {
        var username: String
        var password: String
    }

    /// TLS for the listener: the broker's certificate and key, and the CA clients are told to trust.
    struct TLS: Sendable {
        var certificateFile: String
        var keyFile: String
        /// The CA that signed the broker's certificate (and, with `requireClientCertificate`, the
        /// clients' certificates).
        var caFile: String
        var requireClientCertificate: Bool
    }

    var directory: URL
    var domainID: String
    var channelID: String
    var listenHost: String
    var port: Int
    /// The host clients connect to (the listen host, or 127.0.0.1 for a wildcard listen address).
    var clientHost: String
    var managers: [Identity]
    var proplets: [Identity]
    var anonymousMetrics: Bool
    var tls: TLS?
    /// The `user` line: the account Mosquitto drops to when started as root (nil: Mosquitto's default).
    var brokerUser: String?
    var persistence: Bool

    var configurationFile: URL { directory.appendingPathComponent("mosquitto.conf") }
    var passwordFile: URL { directory.appendingPathComponent("passwords") }
    var aclFile: URL { directory.appendingPathComponent("acl") }
    var dataDirectory: URL { directory.appendingPathComponent("data", isDirectory: true) }

    /// The env file of one identity (`manager-NAME.env` or `proplet-ID.env`).
    func environmentFile(for identity: Identity, isManager: Bool) -> URL {
        directory.appendingPathComponent("\(isManager ? "manager" : "proplet")-\(identity.username).env")
    }

    /// `mqtt://host:port`, or `mqtts://` with TLS.
    var clientURL: String {
        let host = clientHost.contains(":") ? "[\(clientHost)]" : clientHost
        return "\(tls == nil ? "mqtt" : "mqtts")://\(host):\(port)"
    }

    private var base: String { "m/\(domainID)/c/\(channelID)/" }

    /// The text of `mosquitto.conf`.
    var configurationText: String {
        var lines = [
            "# Written by `propeller broker-config` for domain '\(domainID)', channel '\(channelID)' (SPEC §7).",
            "per_listener_settings false",
            "listener \(port) \(listenHost)",
        ]
        if let tls {
            lines += [
                "certfile \(tls.certificateFile)",
                "keyfile \(tls.keyFile)",
                "cafile \(tls.caFile)",
                "tls_version tlsv1.2",
                "require_certificate \(tls.requireClientCertificate)",
            ]
        }
        lines += [
            "allow_anonymous \(anonymousMetrics)",
            "password_file \(passwordFile.path)",
            "acl_file \(aclFile.path)",
        ]
        if !anonymousMetrics {
            // Every client is authenticated, so its client id can be its username: no client can take
            // over another's session (and with it disconnect the manager or a proplet).
            lines.append("use_username_as_clientid true")
        }
        lines += [
            "# Mosquitto's defaults discard messages past 1000 queued per client; keep every one.",
            "max_queued_messages 0",
            "max_queued_bytes 0",
            "# Small packets (results, acks, start commands) leave at once instead of waiting for the previous",
            "# packet's TCP ACK (Nagle): measured here, a result reached the manager 22 ms later without it, 1.7 ms with.",
            "set_tcp_nodelay true",
            "connection_messages true",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
        ]
        if persistence {
            lines += ["persistence true", "persistence_location \(dataDirectory.path)/"]
        }
        if let brokerUser { lines.append("user \(brokerUser)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The text of the ACL file.
    var aclText: String {
        var lines = ["# Written by `propeller broker-config` (SPEC §7). Anonymous clients:"]
        if anonymousMetrics {
            lines.append("topic read m/+/c/+/metrics/#")
        } else {
            lines.append("# (none: allow_anonymous is false)")
        }
        for manager in managers {
            lines += ["", "user \(manager.username)", "topic readwrite \(base)control/#"]
        }
        for proplet in proplets {
            let id = proplet.username
            lines += [
                "",
                "user \(id)",
                "topic write \(base)control/proplet/\(id)/#",
                "topic write \(base)control/proplet/task_metrics",
                "topic write \(base)control/proplet/metrics",
                "topic write \(base)metrics/proplet",
                "topic read \(base)control/manager/\(id)/#",
                "topic read \(base)control/manager/hello",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The plain-text password file (`user:password` lines) that `mosquitto_passwd -U` hashes in place.
    var plainPasswordText: String {
        (managers + proplets).map { "\($0.username):\($0.password)\n" }.joined()
    }

    /// The environment one service needs to connect as `identity` (SPEC §6 names).
    func environment(for identity: Identity, isManager: Bool) -> [(String, String)] {
        var variables = [
            ("PROPELLER_MQTT_URL", clientURL),
            ("PROPELLER_MQTT_USERNAME", identity.username),
            ("PROPELLER_MQTT_PASSWORD", identity.password),
            ("PROPELLER_DOMAIN_ID", domainID),
            ("PROPELLER_CHANNEL_ID", channelID),
        ]
        if !isManager { variables.append(("PROPLET_ID", identity.username)) }
        if let tls { variables.append(("PROPELLER_MQTT_CA_FILE", tls.caFile)) }
        return variables
    }

    /// A fresh password: 24 random bytes from the system's CSPRNG as 32 base64url characters.
    static func generatePassword() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }

    /// Why `name` cannot be a broker username / proplet id, or nil when it can: a non-empty identifier
    /// of at most 128 characters of letters, digits, `-`, `_` and `.` (no MQTT wildcard, no `/`, no
    /// `:` of the password file, no space of the ACL file).
    static func problem(withName name: String) -> String? {
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || $0 == "-" || $0 == "_" || $0 == "."
        }
        guard !name.isEmpty, name.count <= 128, allowed else {
            return "'\(name)' is not accepted: use 1 to 128 letters, digits, '-', '_' or '.'"
        }
        return nil
    }
}
