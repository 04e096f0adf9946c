import Foundation
import PropellerLauncher

#if canImport(Glibc)
import Glibc
#endif

/// The local PostgreSQL of `propeller dev --storage postgres`: Debian's server binaries, a cluster
/// initialised once in `<data dir>/postgres` and kept across runs, listening on 127.0.0.1 only with
/// password logins (SCRAM-SHA-256; the generated password is kept in `<data dir>/postgres.password`,
/// mode 0600).
///
/// PostgreSQL refuses to run as root: run as root, `initdb` and `postgres` run as the `postgres` user
/// (or `nobody`) through `setpriv`, and the cluster directory belongs to that user, so every directory
/// above the data dir must be searchable by it (a data dir under `/root` is refused, naming the cause).
struct DevPostgres {
    /// The role the managers log in as (the cluster's superuser) and their database (initdb's own).
    static let user = "propeller"
    static let database = "postgres"

    let binDirectory: URL
    /// The uid and gid the server runs as when `propeller dev` runs as root; nil otherwise.
    let account: (name: String, uid: uid_t, gid: gid_t)?

    /// Finds the newest `/usr/lib/postgresql/*/bin` with `initdb` and `postgres`.
    init() throws {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let found = versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
            .map { URL(fileURLWithPath: "\(root)/\($0)/bin") }
            .first { directory in
                ["initdb", "postgres"].allSatisfy {
                    FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent($0).path)
                }
            }
        guard let found else {
            throw CLIError(
                description:
                    "--storage postgres: PostgreSQL's server binaries (initdb, postgres) are not in "
                    + "/usr/lib/postgresql/*/bin; apt-get install postgresql, or pass --database-url"
            )
        }
        binDirectory = found
        if geteuid() == 0 {
            guard let entry = getpwnam("postgres") ?? getpwnam("nobody") else {
                throw CLIError(description: "--storage postgres as root needs a 'postgres' or 'nobody' user to run as")
            }
            account = (String(cString: entry.pointee.pw_name), entry.pointee.pw_uid, entry.pointee.pw_gid)
        } else {
            account = nil
        }
    }

    /// The executable and arguments that run `tool` as the server's account.
    func command(_ tool: String, _ arguments: [String]) -> (executable: String, arguments: [String]) {
        let path = binDirectory.appendingPathComponent(tool).path
        guard let account else { return (path, arguments) }
        return (
            "/usr/bin/setpriv",
            ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--init-groups", "--", path] + arguments
        )
    }

    /// Initialises `<dataDir>/postgres` unless it already holds a cluster; returns the managers' password.
    func prepare(dataDir: URL) async throws -> String {
        let cluster = dataDir.appendingPathComponent("postgres")
        let passwordFile = dataDir.appendingPathComponent("postgres.password")
        if FileManager.default.fileExists(atPath: cluster.appendingPathComponent("PG_VERSION").path) {
            guard let password = try? String(contentsOf: passwordFile, encoding: .utf8), !password.isEmpty else {
                throw CLIError(description: "\(cluster.path) exists but \(passwordFile.path) does not; remove both")
            }
            return password.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let account { try requireSearchable(dataDir, by: account) }
        say("initialising PostgreSQL in \(cluster.path)…")
        let password = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let work = dataDir.appendingPathComponent("postgres.initdb")
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(
            at: work,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        defer { try? FileManager.default.removeItem(at: work) }
        let secret = work.appendingPathComponent("pwfile")
        try Data(password.utf8).write(to: secret)
        try own(work)
        try own(secret)
        let (executable, arguments) = command(
            "initdb",
            [
                "-D", work.appendingPathComponent("data").path, "-U", Self.user, "--pwfile=\(secret.path)",
                "--auth=scram-sha-256", "--no-instructions", "-E", "UTF8", "--locale=C.UTF-8",
            ]
        )
        try await runToCompletion(executable, arguments, log: dataDir.appendingPathComponent("initdb.log"))
        guard rename(work.appendingPathComponent("data").path, cluster.path) == 0 else {
            throw CLIError(
                description: "cannot move the new cluster to \(cluster.path): \(String(cString: strerror(errno)))"
            )
        }
        _ = FileManager.default.createFile(
            atPath: passwordFile.path,
            contents: Data(password.utf8),
            attributes: [.posixPermissions: 0o600]
        )
        return password
    }

    /// `postgres` on 127.0.0.1:`port` only (no Unix socket), logging to its stdout.
    func serverArguments(dataDir: URL, port: Int) -> [String] {
        [
            "-D", dataDir.appendingPathComponent("postgres").path, "-p", "\(port)",
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "logging_collector=off",
        ]
    }

    private func own(_ path: URL) throws {
        guard let account else { return }
        guard chown(path.path, account.uid, account.gid) == 0 else {
            throw CLIError(
                description: "cannot give \(path.path) to \(account.name): \(String(cString: strerror(errno)))"
            )
        }
    }

    /// Throws unless every directory from `/` down to `directory` lets `account` search it.
    private func requireSearchable(_ directory: URL, by account: (name: String, uid: uid_t, gid: gid_t)) throws {
        var path = directory.standardizedFileURL
        while path.path != "/" {
            var info = stat()
            if stat(path.path, &info) == 0 {
                let mode = info.st_mode
                let searchable =
                    info.st_uid == account.uid
                    ? mode & S_IXUSR != 0
                    : info.st_gid == account.gid ? mode & S_IXGRP != 0 : mode & S_IXOTH != 0
                if !searchable {
                    throw CLIError(
                        description:
                            "--storage postgres as root: PostgreSQL runs as '\(account.name)', which cannot enter "
                            + "\(path.path); pass a --data-dir outside it (e.g. /tmp/propeller-dev)"
                    )
                }
            }
            path.deleteLastPathComponent()
        }
    }

    private func runToCompletion(_ executable: String, _ arguments: [String], log: URL) async throws {
        let process = try await ProcessLauncher.launch(
            executable,
            arguments: arguments,
            environment: ProcessLauncher.inheritedEnvironment(),
            output: .file(log.path)
        )
        let status = await process.waitForExit(timeout: .seconds(120))
        guard status == 0 else {
            if status == nil { process.send(SIGKILL) }
            let outcome = status.map { "status \($0)" } ?? "no exit within 120 s"
            throw CLIError(description: "initdb failed (\(outcome)); see \(log.path)")
        }
    }
}

extension DevStack {
    /// Initialises (first run) and starts the local PostgreSQL on `port`, waits until it accepts
    /// connections, and returns the managers' `MANAGER_DATABASE_URL`. It is stopped last (children stop
    /// in reverse order), after the managers.
    func startPostgres(port: Int) async throws -> String {
        try Self.requireFree(port, option: "--postgres-port (or --database-url to use that database)")
        let postgres = try DevPostgres()
        let password = try await postgres.prepare(dataDir: dataDir)
        say("starting PostgreSQL on 127.0.0.1:\(port)…")
        let (executable, arguments) = postgres.command(
            "postgres",
            postgres.serverArguments(dataDir: dataDir, port: port)
        )
        try await spawn("postgres", executable: executable, arguments: arguments, environment: [:])
        let deadline = ContinuousClock.now + .seconds(30)
        while !Self.canConnect(port: port) {
            guard ContinuousClock.now < deadline, isRunning("postgres") else {
                throw CLIError(description: "PostgreSQL did not start on port \(port); see \(logPath("postgres"))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return "postgres://\(DevPostgres.user):\(password)@127.0.0.1:\(port)/\(DevPostgres.database)?sslmode=disable"
    }
}
