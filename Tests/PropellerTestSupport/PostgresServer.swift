import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server (Debian's `postgresql` package) on a free 127.0.0.1 port, started by
/// `withPostgres` in a temporary directory and always stopped and removed afterwards.
///
/// PostgreSQL refuses to run as root, so when the tests run as root (CI does) `initdb`, `postgres` and
/// the data directory belong to the `postgres` user (or `nobody` where that user does not exist), and
/// the server is started through `setpriv` (an `exec`, so the pid is the postmaster's own). The
/// database accepts password logins only (SCRAM-SHA-256): `url` carries the user and password the
/// way `MANAGER_DATABASE_URL` does. `stop()` and `start()` stop and restart the same server on the
/// same port with its data, e.g. to test that a client survives a database restart.
public struct PostgresServer: Sendable {
    /// The user that owns the database (a superuser of this test cluster).
    public static let user = "propeller"
    /// Its password (loopback only, a throwaway cluster).
    public static let password = "propeller-test-password"
    /// The database `withPostgres` creates.
    public static let database = "propeller"

    /// `postgres://propeller:…@127.0.0.1:<port>/propeller`.
    public var url: String { url(database: Self.database) }
    /// The TCP port the server listens on.
    public let port: Int
    /// The temporary directory holding the data directory (`data/`) and the server's log.
    public let directory: URL
    let process: PostgresProcess

    /// The URL of another database on this server.
    public func url(database: String) -> String {
        "postgres://\(Self.user):\(Self.password)@127.0.0.1:\(port)/\(database)"
    }

    /// The server's log so far (start-up, connections refused, errors); useful in failure messages.
    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("postgres.log"), encoding: .utf8)) ?? ""
    }

    /// Stops the server with a fast shutdown (SIGINT: open sessions are ended, everything committed is
    /// kept). Does nothing when it is not running.
    public func stop() async {
        await process.stop()
    }

    /// Kills the server at once (SIGKILL of the postmaster, then its backends): like a crash of its
    /// machine's process, committed data survives in the WAL.
    public func kill() async {
        await process.kill()
    }

    /// Starts the server again on the same port with the same data and waits until it accepts
    /// connections. Does nothing when it is already running.
    public func start() async throws {
        try await process.start()
    }

    /// Runs one SQL command as the cluster's superuser, on the `postgres` database unless another is
    /// named (advisory locks, for one, belong to a database), e.g. `ALTER SYSTEM …`.
    public func execute(_ command: String, database: String = "postgres") async throws {
        try await PostgresInstallation.psql(port: port, command: command, database: database)
    }

    /// Creates another empty database on this server and returns its URL.
    public func createDatabase(_ name: String) async throws -> String {
        try await PostgresInstallation.psql(port: port, command: "CREATE DATABASE \"\(name)\"")
        return url(database: name)
    }
}

/// Options for the server `withPostgres` starts.
public struct PostgresOptions: Sendable {
    /// `fsync` on: the default is off, which keeps every commit across a process crash or a restart of
    /// the server (the tests' failures) but not across a power loss. Benchmarks turn it on.
    public var durable: Bool
    /// Extra `-c name=value` settings for the server.
    public var settings: [String: String]

    /// Options with every default: no fsync, no extra settings.
    public init(durable: Bool = false, settings: [String: String] = [:]) {
        self.durable = durable
        self.settings = settings
    }
}

/// Errors starting the test database.
public enum PostgresServerError: Error, CustomStringConvertible {
    /// The server binaries are not installed; says where they were looked for.
    case notInstalled(String)
    /// `initdb` or `psql` failed; carries its output.
    case toolFailed(tool: String, status: Int32, output: String)
    /// The server exited or did not accept connections in time; carries the tail of its log.
    case didNotStart(port: Int, log: String)

    /// A readable explanation.
    public var description: String {
        switch self {
        case .notInstalled(let reason):
            return reason
        case .toolFailed(let tool, let status, let output):
            return "\(tool) failed with exit status \(status):\n\(output.suffix(2000))"
        case .didNotStart(let port, let log):
            return "postgres did not start on 127.0.0.1:\(port); log:\n\(log.suffix(2000))"
        }
    }
}

/// Runs `body` with a real PostgreSQL server on a free 127.0.0.1 port holding an empty database
/// `propeller`, and stops the server and removes its files afterwards, whether `body` returned or threw.
///
/// Where the server binaries are not installed this throws `PostgresServerError.notInstalled` saying
/// what is missing; tests check `PostgresInstallation.missingReason` first and skip with that message.
public func withPostgres<T>(
    options: PostgresOptions = PostgresOptions(),
    _ body: (PostgresServer) async throws -> T
) async throws -> T {
    let server = try await PostgresServer.launch(options: options)
    do {
        let result = try await body(server)
        await server.process.stop()
        try? FileManager.default.removeItem(at: server.directory)
        return result
    } catch {
        await server.process.stop()
        try? FileManager.default.removeItem(at: server.directory)
        throw error
    }
}

extension PostgresServer {
    /// Copies the initialised cluster into a new temporary directory, then starts it; retries on a new
    /// port when another process took the chosen one in the meantime.
    static func launch(options: PostgresOptions) async throws -> PostgresServer {
        let installation = try PostgresInstallation.require()
        let template = try await PostgresInstallation.template()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("propeller-postgres-\(UUID().uuidString)")
        try installation.makeOwnedDirectory(directory)
        let data = directory.appendingPathComponent("data")
        do {
            try await PostgresInstallation.run("/bin/cp", ["-a", template.path, data.path])
            var lastError: (any Error)?
            for _ in 0..<5 {
                let port = try LoopbackPort.free()
                let process = PostgresProcess(
                    installation: installation,
                    port: port,
                    directory: directory,
                    options: options
                )
                do {
                    try await process.start()
                    try await PostgresInstallation.psql(port: port, command: "CREATE DATABASE \(database)")
                    return PostgresServer(port: port, directory: directory, process: process)
                } catch {
                    lastError = error
                    await process.stop()
                }
            }
            throw lastError ?? PostgresServerError.didNotStart(port: 0, log: "")
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }
}
