import Foundation

/// A real Mosquitto broker (`/usr/sbin/mosquitto`) on a free 127.0.0.1 port, started by `withMosquitto`.
///
/// The broker runs in the foreground as a child process (never `-d`), with a generated configuration
/// that keeps every message (`max_queued_messages 0`, `max_queued_bytes 0`) and runs as `user root` so
/// it can read and write its temporary directory. `stop()` and `start()` stop and restart it on the same
/// port, e.g. to test reconnects.
public struct MosquittoBroker: Sendable {
    /// `mqtt://127.0.0.1:<port>`.
    public let url: String
    /// The TCP port the broker listens on.
    public let port: Int
    /// The temporary directory holding the configuration, password file, log and persistence files.
    public let directory: URL
    let process: MosquittoProcess

    /// The broker's log so far (connections, refusals, errors); useful in failure messages.
    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("mosquitto.log"), encoding: .utf8)) ?? ""
    }

    /// Stops the broker: SIGTERM, then SIGKILL after 5 s. Does nothing when it is not running.
    public func stop() async {
        await process.stop()
    }

    /// Ends the broker with `signal` (SIGTERM: a normal shutdown that publishes every client's will;
    /// SIGKILL: a crash) and waits until it has exited. Does nothing when it is not running.
    public func stop(signal: Int32) async {
        await process.kill(signal: signal)
    }

    /// Starts the broker again on the same port and waits until it accepts TCP connections.
    /// Does nothing when it is already running.
    public func start() async throws {
        try await process.start()
    }
}

/// Options for the broker `withMosquitto` starts.
public struct MosquittoOptions: Sendable {
    /// Username → password. When set, anonymous clients are refused and a password file is generated
    /// with `mosquitto_passwd`; when nil (the default), anonymous clients are allowed.
    public var users: [String: String]?
    /// Whether the broker saves its sessions and queued messages on shutdown and restores them on
    /// start (`persistence true`). Default false, like Mosquitto's own default.
    public var persistence: Bool
    /// Extra configuration lines appended to the generated file.
    public var extraConfiguration: [String]

    /// Options with every default: anonymous access, no persistence, no extra lines.
    public init(users: [String: String]? = nil, persistence: Bool = false, extraConfiguration: [String] = []) {
        self.users = users
        self.persistence = persistence
        self.extraConfiguration = extraConfiguration
    }
}

/// Errors starting the test broker.
public enum MosquittoBrokerError: Error, CustomStringConvertible {
    /// The broker exited or did not accept connections in time; carries the tail of its log.
    case didNotStart(port: Int, log: String)
    /// `mosquitto_passwd` failed.
    case passwordFileFailed(status: Int32)

    /// A readable explanation.
    public var description: String {
        switch self {
        case .didNotStart(let port, let log):
            return "mosquitto did not start on 127.0.0.1:\(port); log:\n\(log.suffix(2000))"
        case .passwordFileFailed(let status):
            return "mosquitto_passwd failed with exit status \(status)"
        }
    }
}

/// Runs `body` with a real Mosquitto broker on a free 127.0.0.1 port and stops the broker afterwards,
/// whether `body` returned or threw. `users` (username → password) turns on password authentication.
public func withMosquitto<T>(
    users: [String: String]? = nil,
    _ body: (MosquittoBroker) async throws -> T
) async throws -> T {
    try await withMosquitto(options: MosquittoOptions(users: users), body)
}

/// Runs `body` with a real Mosquitto broker configured by `options` and always stops it afterwards.
public func withMosquitto<T>(
    options: MosquittoOptions,
    _ body: (MosquittoBroker) async throws -> T
) async throws -> T {
    let broker = try await MosquittoBroker.launch(options: options)
    do {
        let result = try await body(broker)
        await broker.process.stop()
        try? FileManager.default.removeItem(at: broker.directory)
        return result
    } catch {
        await broker.process.stop()
        try? FileManager.default.removeItem(at: broker.directory)
        throw error
    }
}

extension MosquittoBroker {
    /// Creates the directory and configuration, then starts the broker; retries on a new port when
    /// another process took the chosen one in the meantime.
    static func launch(options: MosquittoOptions) async throws -> MosquittoBroker {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("propeller-mosquitto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let users = options.users {
            try await writePasswordFile(users: users, to: directory.appendingPathComponent("passwords"))
        }
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try LoopbackPort.free()
            try configuration(port: port, directory: directory, options: options)
                .write(to: directory.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
            let process = MosquittoProcess(port: port, directory: directory)
            do {
                try await process.start()
                return MosquittoBroker(
                    url: "mqtt://127.0.0.1:\(port)",
                    port: port,
                    directory: directory,
                    process: process
                )
            } catch {
                lastError = error
                await process.stop()
            }
        }
        try? FileManager.default.removeItem(at: directory)
        throw lastError ?? MosquittoBrokerError.didNotStart(port: 0, log: "")
    }

    static func configuration(port: Int, directory: URL, options: MosquittoOptions) -> String {
        var lines = [
            "listener \(port) 127.0.0.1",
            "user root",
            "max_queued_messages 0",
            "max_queued_bytes 0",
            "log_dest file \(directory.appendingPathComponent("mosquitto.log").path)",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
        ]
        if options.users != nil {
            lines += ["allow_anonymous false", "password_file \(directory.appendingPathComponent("passwords").path)"]
        } else {
            lines.append("allow_anonymous true")
        }
        if options.persistence {
            lines += ["persistence true", "persistence_location \(directory.path)/", "autosave_interval 0"]
        }
        return (lines + options.extraConfiguration).joined(separator: "\n") + "\n"
    }

    static func writePasswordFile(users: [String: String], to file: URL) async throws {
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        for (user, password) in users.sorted(by: { $0.key < $1.key }) {
            let status = try await MosquittoProcess.runTool(
                "/usr/bin/mosquitto_passwd",
                arguments: ["-b", file.path, user, password]
            )
            guard status == 0 else { throw MosquittoBrokerError.passwordFileFailed(status: status) }
        }
    }
}
