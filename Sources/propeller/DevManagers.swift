import ArgumentParser
import Foundation

/// `propeller dev --managers N --storage postgres`: several managers on one local PostgreSQL (SPEC §1
/// "Scale-out"), the way docs/deploy.md lays out two managers, run on one machine.
extension DevCommand {
    /// Checks `--managers`, `--storage` and `--database-url` before anything is started.
    func validate() throws {
        do {
            _ = try storageChoice()
        } catch let error as CLIError {
            throw ValidationError(error.description)
        }
    }

    /// The store settings the options ask for, or a usage error naming the option.
    func storageChoice() throws -> (postgres: Bool, managers: Int) {
        guard (1...9).contains(managers) else {
            throw CLIError(description: "--managers must be 1…9, got \(managers)")
        }
        let postgres: Bool
        switch storage {
        case "sqlite": postgres = databaseURL != nil
        case "postgres": postgres = true
        default: throw CLIError(description: "--storage must be sqlite or postgres, got '\(storage)'")
        }
        if managers > 1 && !postgres {
            throw CLIError(
                description:
                    "--managers \(managers) needs --storage postgres: several managers share one PostgreSQL "
                    + "database (SQLite is one manager's file)"
            )
        }
        return (postgres, managers)
    }

    /// Starts the PostgreSQL server (unless `--database-url` names one) and the managers on
    /// `--http-port`, `--http-port + 1`, …; waits until every manager but the first answers (the caller
    /// waits for the first). Returns the summary lines for the managers (and the database).
    func startManagers(_ stack: DevStack, brokerURL: String, signals: ShutdownSignals) async throws -> String {
        let (postgres, count) = try storageChoice()
        var storage: [String: String]?
        var lines: [String] = []
        if postgres {
            let url: String
            if let databaseURL { url = databaseURL } else { url = try await stack.startPostgres(port: postgresPort) }
            storage = ["MANAGER_STORAGE": "postgres", "MANAGER_DATABASE_URL": url]
            lines.append(
                databaseURL == nil
                    ? "  PostgreSQL    127.0.0.1:\(postgresPort)  (log: \(stack.logPath("postgres")))"
                    : "  PostgreSQL    \(Self.masked(url))"
            )
        }
        for index in 0..<count {
            let name = index == 0 ? "manager" : "manager-\(index + 1)"
            try await stack.startManager(brokerURL: brokerURL, httpPort: httpPort + index, name: name, storage: storage)
            lines.append("  manager API   http://127.0.0.1:\(httpPort + index)  (log: \(stack.logPath(name)))")
        }
        for index in 1..<max(1, count) {
            let client = try ManagerAPIClient(baseURL: "http://127.0.0.1:\(httpPort + index)")
            try await stack.waitForManager(client, signals: signals)
        }
        return lines.joined(separator: "\n")
    }

    /// `url` with its password replaced by `***`.
    static func masked(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
