import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The broker identities of `propeller dev`: authentication is on in the local stack too. The broker
/// gets `propeller broker-config`'s files (one manager, the dev proplet, anonymous read-only
/// `metrics/#` so the README's `mosquitto_sub` line works), written afresh on every run under
/// `DATA_DIR/broker` (`0700`, files `0600`, passwords hashed, new passwords each run).
struct DevBrokerAuth: Sendable {
    /// The `mosquitto.conf` to start the broker with.
    var configurationFile: URL
    /// What the manager's environment adds (URL, username, password, domain, channel).
    var managerEnvironment: [String: String]
    /// What the proplet's environment adds (the same, plus `PROPLET_ID` = its broker username).
    var propletEnvironment: [String: String]

    /// Writes the broker's configuration for a listener on 127.0.0.1:`port` and returns it with the
    /// environment of each service. The proplet's id is generated once and kept in `DATA_DIR/dev-proplet-id`
    /// (the ACL names it, so it must not change between runs).
    static func prepare(dataDir: URL, port: Int) async throws -> DevBrokerAuth {
        let environment = ProcessInfo.processInfo.environment
        let propletID = try persistentPropletID(in: dataDir)
        let setup = BrokerSetup(
            directory: dataDir.appendingPathComponent("broker", isDirectory: true),
            domainID: environment["PROPELLER_DOMAIN_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? "default",
            channelID: environment["PROPELLER_CHANNEL_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? "default",
            listenHost: "127.0.0.1",
            port: port,
            clientHost: "127.0.0.1",
            managers: [BrokerSetup.Identity(username: "dev-manager", password: BrokerSetup.generatePassword())],
            proplets: [BrokerSetup.Identity(username: propletID, password: BrokerSetup.generatePassword())],
            anonymousMetrics: true,
            tls: nil,
            // Mosquitto started as root drops to the `mosquitto` user, which could not read the 0600 files.
            brokerUser: getuid() == 0 ? "root" : nil,
            persistence: false
        )
        try await BrokerSetupWriter(setup: setup, force: true).write()
        func variables(_ identity: BrokerSetup.Identity, isManager: Bool) -> [String: String] {
            Dictionary(setup.environment(for: identity, isManager: isManager), uniquingKeysWith: { _, last in last })
        }
        return DevBrokerAuth(
            configurationFile: setup.configurationFile,
            managerEnvironment: variables(setup.managers[0], isManager: true),
            propletEnvironment: variables(setup.proplets[0], isManager: false)
        )
    }

    /// The dev proplet's id: read from `dev-proplet-id`, or a new lowercase UUID written there.
    private static func persistentPropletID(in dataDir: URL) throws -> String {
        let file = dataDir.appendingPathComponent("dev-proplet-id")
        if let saved = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
            BrokerSetup.problem(withName: saved) == nil
        {
            return saved
        }
        let id = UUID().uuidString.lowercased()
        do {
            try Data((id + "\n").utf8).write(to: file, options: .atomic)
        } catch {
            throw CLIError(description: "cannot write \(file.path): \(error.localizedDescription)")
        }
        return id
    }
}
