import ArgumentParser
import Foundation

/// `propeller broker-config`: writes a Mosquitto configuration, a hashed password file and an ACL
/// that confine the manager and every proplet to their own topics (SPEC §7), plus one env file of
/// credentials per identity, and prints where everything is and how to use it.
struct BrokerConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker-config",
        abstract: "Write a Mosquitto configuration, password file and ACL for a manager and named proplets.",
        discussion: """
            Each proplet's broker username is its proplet id (PROPLET_ID). Passwords are generated, hashed \
            into the password file with mosquitto_passwd (Debian package mosquitto) and written in plain \
            text only to the 0600 env files, one per identity. Start the broker with \
            `mosquitto -c DIR/mosquitto.conf`.
            """
    )

    @Option(name: .shortAndLong, help: "Directory for the files (created 0700).")
    var output: String = "broker"

    @Option(name: .customLong("proplet"), help: "A proplet id (its broker username); repeatable.")
    var propletIDs: [String] = []

    @Option(name: .customLong("proplets"), help: "Also generate this many proplets with random UUID ids.")
    var generatedProplets: Int = 0

    @Option(name: .customLong("manager"), help: "A manager's broker username; repeatable (default: manager).")
    var managerNames: [String] = []

    @Flag(help: "Let anonymous clients read m/+/c/+/metrics/# (dashboards, mosquitto_sub); nothing else.")
    var anonymousMetrics = false

    @Option(help: "Domain id of the topics (default: PROPELLER_DOMAIN_ID or default).")
    var domain: String?

    @Option(help: "Channel id of the topics (default: PROPELLER_CHANNEL_ID or default).")
    var channel: String?

    @Option(help: "Address the broker listens on.")
    var listen: String = "127.0.0.1"

    @Option(help: "Port the broker listens on (default 1883, or 8883 with --tls-cert).")
    var port: Int?

    @Option(help: "The broker's TLS certificate (PEM); turns the listener into mqtts://.")
    var tlsCert: String?

    @Option(help: "The key of --tls-cert (PEM).")
    var tlsKey: String?

    @Option(
        help: "The CA certificate clients trust (PROPELLER_MQTT_CA_FILE) and client certificates are checked against."
    )
    var tlsCA: String?

    @Flag(help: "With TLS: refuse clients without a certificate signed by --tls-ca.")
    var requireClientCertificate = false

    @Option(help: "The account Mosquitto runs as when started as root (its `user` setting).")
    var brokerUser: String?

    @Flag(inversion: .prefixedNo, help: "Broker persistence in DIR/data (queued messages survive a broker restart).")
    var persistence = true

    @Flag(help: "Overwrite files from an earlier run in the directory.")
    var force = false

    func run() async throws {
        let setup = try makeSetup()
        try await BrokerSetupWriter(setup: setup, force: force).write()
        print(summary(of: setup))
    }

    private func makeSetup() throws -> BrokerSetup {
        let environment = ProcessInfo.processInfo.environment
        let domainID = domain ?? environment["PROPELLER_DOMAIN_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let channelID = channel ?? environment["PROPELLER_CHANNEL_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        for (label, value) in [("--domain", domainID), ("--channel", channelID)] {
            if let problem = BrokerSetup.problem(withName: value) { throw ValidationError("\(label) \(problem)") }
        }
        guard (0...100_000).contains(generatedProplets) else {
            throw ValidationError("--proplets must be from 0 to 100000, got \(generatedProplets)")
        }
        let managers = managerNames.isEmpty ? ["manager"] : managerNames
        let proplets = propletIDs + (0..<generatedProplets).map { _ in UUID().uuidString.lowercased() }
        guard !proplets.isEmpty else {
            throw ValidationError("name at least one proplet: --proplet ID (repeatable) or --proplets N")
        }
        var seen = Set<String>()
        for name in managers + proplets {
            if let problem = BrokerSetup.problem(withName: name) { throw ValidationError("username \(problem)") }
            guard seen.insert(name).inserted else {
                throw ValidationError("'\(name)' is named twice: every manager and proplet needs its own username")
            }
        }
        let tls = try makeTLS()
        let port = self.port ?? (tls == nil ? 1883 : 8883)
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be from 1 to 65535, got \(port)") }
        let wildcard = ["0.0.0.0", "::", ""].contains(listen)
        let directory = URL(fileURLWithPath: output, isDirectory: true).standardizedFileURL
        return BrokerSetup(
            directory: directory,
            domainID: domainID,
            channelID: channelID,
            listenHost: listen,
            port: port,
            clientHost: wildcard ? "127.0.0.1" : listen,
            managers: managers.map { BrokerSetup.Identity(username: $0, password: BrokerSetup.generatePassword()) },
            proplets: proplets.map { BrokerSetup.Identity(username: $0, password: BrokerSetup.generatePassword()) },
            anonymousMetrics: anonymousMetrics,
            tls: tls,
            brokerUser: brokerUser,
            persistence: persistence
        )
    }

    private func makeTLS() throws -> BrokerSetup.TLS? {
        guard tlsCert != nil || tlsKey != nil || tlsCA != nil else {
            if requireClientCertificate { throw ValidationError("--require-client-certificate needs --tls-cert") }
            return nil
        }
        guard let tlsCert, let tlsKey, let tlsCA else {
            throw ValidationError("TLS needs all of --tls-cert, --tls-key and --tls-ca")
        }
        for file in [tlsCert, tlsKey, tlsCA] where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("cannot read TLS file \(file)")
        }
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
        return BrokerSetup.TLS(
            certificateFile: absolute(tlsCert),
            keyFile: absolute(tlsKey),
            caFile: absolute(tlsCA),
            requireClientCertificate: requireClientCertificate
        )
    }

    private func summary(of setup: BrokerSetup) -> String {
        var lines = [
            "Wrote (passwords are only in the 0600 env files; the password file holds PBKDF2-SHA512 hashes):",
            "  \(setup.configurationFile.path)",
            "  \(setup.passwordFile.path)",
            "  \(setup.aclFile.path)",
        ]
        for manager in setup.managers {
            lines.append("  \(setup.environmentFile(for: manager, isManager: true).path)")
        }
        for proplet in setup.proplets {
            lines.append("  \(setup.environmentFile(for: proplet, isManager: false).path)")
        }
        var variables = "PROPELLER_MQTT_URL, PROPELLER_MQTT_USERNAME, PROPELLER_MQTT_PASSWORD, PROPELLER_DOMAIN_ID, "
        variables += "PROPELLER_CHANNEL_ID" + (setup.tls == nil ? "" : ", PROPELLER_MQTT_CA_FILE")
        lines += [
            "",
            "Start the broker:   mosquitto -c \(setup.configurationFile.path)",
            "Start the manager:  set -a; . \(setup.environmentFile(for: setup.managers[0], isManager: true).path); "
                + "set +a; propeller manager",
            "Start a proplet:    set -a; . \(setup.environmentFile(for: setup.proplets[0], isManager: false).path); "
                + "set +a; propeller proplet",
            "Each env file sets \(variables) (proplets also PROPLET_ID).",
        ]
        if setup.tls?.requireClientCertificate == true {
            lines.append("Clients also need PROPELLER_MQTT_CERT_FILE and PROPELLER_MQTT_KEY_FILE (signed by --tls-ca).")
        }
        if setup.anonymousMetrics {
            lines.append(
                "Anonymous read of metrics:  mosquitto_sub -h \(setup.clientHost) -p \(setup.port) -t '"
                    + "m/+/c/+/metrics/#' -v"
            )
        }
        return lines.joined(separator: "\n")
    }
}
