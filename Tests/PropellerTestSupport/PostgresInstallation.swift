import Foundation

#if canImport(Glibc)
import Glibc
import PropellerLauncher
#endif

/// The PostgreSQL server binaries on this machine and how to run them (test support).
///
/// Looks only in `PROPELLER_POSTGRES_BIN_DIR` when set, else in the newest `/usr/lib/postgresql/*/bin`
/// (Debian's `postgresql` package) holding `initdb`, `postgres` and `pg_isready`; `psql` comes from
/// the same directory. Running as root, the server tools run as the `postgres` user (or `nobody`)
/// through `setpriv`, since PostgreSQL refuses to run as root.
public struct PostgresInstallation: Sendable {
    /// The directory holding `initdb`, `postgres`, `pg_isready` and `psql`.
    public let binDirectory: URL
    /// The account the server runs as when the tests run as root; nil when they do not.
    let account: Account?

    struct Account: Sendable {
        var name: String
        var uid: uid_t
        var gid: gid_t
    }

    /// The installation found on this machine, or nil.
    public static let found: PostgresInstallation? = locate()

    /// Why PostgreSQL tests cannot run here, or nil when they can.
    public static var missingReason: String? {
        found == nil
            ? "PostgreSQL server binaries (initdb, postgres, pg_isready, psql) not found in "
                + "PROPELLER_POSTGRES_BIN_DIR or /usr/lib/postgresql/*/bin: install Debian's postgresql package "
                + "(make setup does)"
            : nil
    }

    /// The installation, or `PostgresServerError.notInstalled`.
    static func require() throws -> PostgresInstallation {
        guard let found else { throw PostgresServerError.notInstalled(missingReason ?? "") }
        return found
    }

    private static func locate() -> PostgresInstallation? {
        let tools = ["initdb", "postgres", "pg_isready", "psql"]
        func complete(_ directory: URL) -> Bool {
            tools.allSatisfy { FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent($0).path) }
        }
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["PROPELLER_POSTGRES_BIN_DIR"], !override.isEmpty {
            candidates.append(URL(fileURLWithPath: override))
        } else {
            let root = "/usr/lib/postgresql"
            let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
                candidates.append(URL(fileURLWithPath: "\(root)/\(version)/bin"))
            }
        }
        guard let binDirectory = candidates.first(where: complete) else { return nil }
        var account: Account?
        if geteuid() == 0 {
            guard let entry = getpwnam("postgres") ?? getpwnam("nobody") else { return nil }
            account = Account(
                name: String(cString: entry.pointee.pw_name),
                uid: entry.pointee.pw_uid,
                gid: entry.pointee.pw_gid
            )
        }
        return PostgresInstallation(binDirectory: binDirectory, account: account)
    }

    /// The executable and arguments that run server tool `tool` as the server's account.
    func command(_ tool: String, _ arguments: [String]) -> (executable: String, arguments: [String]) {
        let path = binDirectory.appendingPathComponent(tool).path
        guard let account else { return (path, arguments) }
        return (
            "/usr/bin/setpriv",
            ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--init-groups", "--", path] + arguments
        )
    }

    /// Creates `directory` with mode 0700, owned by the server's account.
    func makeOwnedDirectory(_ directory: URL) throws {
        try FileManager.default.createDirectory(
            at: directory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        try own(directory)
    }

    /// Gives `path` to the server's account (when running as root).
    func own(_ path: URL) throws {
        guard let account else { return }
        guard chown(path.path, account.uid, account.gid) == 0 else {
            throw PostgresServerError.toolFailed(tool: "chown \(path.path)", status: errno, output: "")
        }
    }

    // MARK: Tools

    /// Runs `executable` to completion with its output captured; throws `toolFailed` unless it exits 0.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("propeller-postgres-tool-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = try await ProcessLauncher.launch(executable, arguments: arguments, output: .file(output.path))
        let status = await process.waitForExit(timeout: .seconds(120))
        if status == nil { await process.terminate() }
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw PostgresServerError.toolFailed(
                tool: ([executable] + arguments).joined(separator: " "),
                status: status ?? -1,
                output: text
            )
        }
        return text
    }

    /// Runs one SQL command with `psql` on one of the server's databases (`postgres` by default).
    static func psql(port: Int, command: String, database: String = "postgres") async throws {
        let installation = try require()
        let url = "postgres://\(PostgresServer.user):\(PostgresServer.password)@127.0.0.1:\(port)/\(database)"
        try await run(
            installation.binDirectory.appendingPathComponent("psql").path,
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", command]
        )
    }

    /// Whether the server on `port` accepts connections (`pg_isready`).
    func isReady(port: Int) async -> Bool {
        let tool = binDirectory.appendingPathComponent("pg_isready").path
        return (try? await Self.run(tool, ["-q", "-h", "127.0.0.1", "-p", "\(port)", "-t", "1"])) != nil
    }

    // MARK: The initialised cluster

    /// An initialised data directory that every test server copies (`initdb` takes seconds, a copy
    /// milliseconds). It is kept in the temporary directory across runs, one per major version and
    /// account, and is only ever complete: `initdb` writes elsewhere and the result is renamed into place.
    static func template() async throws -> URL {
        let installation = try require()
        let version = installation.binDirectory.deletingLastPathComponent().lastPathComponent
        let name = "propeller-postgres-template-\(version)-\(installation.account?.name ?? "\(geteuid())")-v1"
        let template = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: template.appendingPathComponent("PG_VERSION").path) {
            return template
        }
        let work = FileManager.default.temporaryDirectory
            .appendingPathComponent("propeller-postgres-initdb-\(UUID().uuidString)")
        try installation.makeOwnedDirectory(work)
        defer { try? FileManager.default.removeItem(at: work) }
        let passwordFile = work.appendingPathComponent("password")
        try Data(PostgresServer.password.utf8).write(to: passwordFile)
        try installation.own(passwordFile)
        let data = work.appendingPathComponent("data")
        let (executable, arguments) = installation.command(
            "initdb",
            [
                "-D", data.path, "-U", PostgresServer.user, "--pwfile=\(passwordFile.path)",
                "--auth=scram-sha-256", "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C.UTF-8",
            ]
        )
        try await run(executable, arguments)
        // Another test may have finished first: then its template is used and this one dropped.
        if rename(data.path, template.path) != 0,
            !FileManager.default.fileExists(atPath: template.appendingPathComponent("PG_VERSION").path)
        {
            throw PostgresServerError.toolFailed(
                tool: "rename \(data.path) \(template.path)",
                status: errno,
                output: ""
            )
        }
        return template
    }
}
