import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
import PropellerLauncher
#endif

/// The postmaster behind a `PostgresServer`: started in the foreground, stopped with a fast shutdown,
/// restartable on the same port and data directory.
final class PostgresProcess: Sendable {
    let installation: PostgresInstallation
    let port: Int
    let directory: URL
    let options: PostgresOptions
    private let running = Mutex<LaunchedProcess?>(nil)

    init(installation: PostgresInstallation, port: Int, directory: URL, options: PostgresOptions) {
        self.installation = installation
        self.port = port
        self.directory = directory
        self.options = options
    }

    /// `-c` settings: loopback TCP only (no Unix socket), small memory (several test servers may run at
    /// once), fsync as the options say.
    private var settings: [String: String] {
        var settings = [
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": "",
            "fsync": options.durable ? "on" : "off",
            "shared_buffers": "32MB",
            "max_connections": "100",
            "logging_collector": "off",
        ]
        settings.merge(options.settings) { _, new in new }
        return settings
    }

    /// Starts `postgres` and waits (up to 30 s) until it accepts connections.
    func start() async throws {
        if running.withLock({ $0?.isRunning ?? false }) { return }
        var arguments = ["-D", directory.appendingPathComponent("data").path, "-p", "\(port)"]
        for (name, value) in settings.sorted(by: { $0.key < $1.key }) { arguments += ["-c", "\(name)=\(value)"] }
        let (executable, wrapped) = installation.command("postgres", arguments)
        let process = try await ProcessLauncher.launch(
            executable,
            arguments: wrapped,
            output: .file(directory.appendingPathComponent("postgres.log").path)
        )
        running.withLock { $0 = process }

        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if !process.isRunning { break }
            if LoopbackPort.acceptsConnections(port), await installation.isReady(port: port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        await stop()
        throw PostgresServerError.didNotStart(port: port, log: log)
    }

    /// Fast shutdown (SIGINT), then an immediate one (SIGQUIT) after 15 s, then SIGKILL. Always reaps it.
    func stop() async {
        guard let process = take() else { return }
        process.send(SIGINT)
        if await process.waitForExit(timeout: .seconds(15)) != nil { return }
        process.send(SIGQUIT)
        if await process.waitForExit(timeout: .seconds(5)) != nil { return }
        process.send(SIGKILL)
        await process.waitForExit(timeout: .seconds(30))
    }

    /// Immediate shutdown (SIGQUIT): every backend exits at once without a checkpoint, and the next start
    /// recovers from the WAL, as after a crash.
    func kill() async {
        guard let process = take() else { return }
        process.send(SIGQUIT)
        if await process.waitForExit(timeout: .seconds(10)) != nil { return }
        process.send(SIGKILL)
        await process.waitForExit(timeout: .seconds(30))
    }

    private func take() -> LaunchedProcess? {
        running.withLock { value -> LaunchedProcess? in
            defer { value = nil }
            return value
        }
    }

    private var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("postgres.log"), encoding: .utf8)) ?? ""
    }
}
