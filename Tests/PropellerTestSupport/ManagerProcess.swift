import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A `propeller manager` child process on a free loopback port, for integration tests.
public final class ManagerProcess: @unchecked Sendable {
    /// `http://127.0.0.1:PORT`.
    public let baseURL: URL
    /// Combined stdout and stderr of the manager (its log).
    public let logFile: URL
    private let process: Process

    private init(baseURL: URL, logFile: URL, process: Process) {
        self.baseURL = baseURL
        self.logFile = logFile
        self.process = process
    }

    /// Spawns `propeller manager` with `environment` added to this process's environment and
    /// `MANAGER_HTTP_PORT=0` (unless given), waits until it logs its port and `GET /health` answers.
    public static func start(
        environment: [String: String],
        timeout: Duration = .seconds(30)
    ) async throws
        -> ManagerProcess
    {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("propeller-manager-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let logFile = directory.appendingPathComponent("manager.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        defer { try? log.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: BinaryLocator.path(of: "propeller"))
        process.arguments = ["manager"]
        var env = ProcessInfo.processInfo.environment
        env["MANAGER_HTTP_PORT"] = "0"
        env["MANAGER_DB_PATH"] = directory.appendingPathComponent("propeller.db").path
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.currentDirectoryURL = directory
        process.standardOutput = log
        process.standardError = log
        try process.run()

        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
                throw ManagerProcessError.exited(status: process.terminationStatus, log: text)
            }
            if let port = listeningPort(in: logFile) {
                let manager = ManagerProcess(
                    baseURL: URL(string: "http://127.0.0.1:\(port)")!,
                    logFile: logFile,
                    process: process
                )
                if (try? await HTTPTestClient.request(manager.baseURL.appendingPathComponent("health")))?.status == 200
                {
                    return manager
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        process.waitUntilExit()
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        throw ManagerProcessError.timedOut(log: text)
    }

    /// Sends SIGTERM and waits for a graceful exit (SIGKILL after `timeout`). Returns the exit status.
    @discardableResult
    public func stop(timeout: Duration = .seconds(15)) async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }

    /// The manager's log so far.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    private static func listeningPort(in logFile: URL) -> Int? {
        guard let text = try? String(contentsOf: logFile, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.contains("manager listening") {
            // Text logs say http.port=N, JSON logs "http.port":"N".
            guard let range = line.range(of: "http.port=") ?? line.range(of: #""http.port":""#) else { continue }
            let digits = line[range.upperBound...].prefix { $0.isNumber }
            if let port = Int(digits) { return port }
        }
        return nil
    }
}

/// Why a manager process could not be started.
public enum ManagerProcessError: Error, CustomStringConvertible {
    case exited(status: Int32, log: String)
    case timedOut(log: String)

    public var description: String {
        switch self {
        case .exited(let status, let log): "propeller manager exited with status \(status):\n\(log)"
        case .timedOut(let log): "propeller manager did not answer /health in time:\n\(log)"
        }
    }
}

/// Runs `body` with the base URL of a fresh `propeller manager` process and always stops it.
///
/// `environment` is added to the manager's environment (for example `PROPELLER_MQTT_URL`,
/// `MANAGER_STORAGE`, `MANAGER_DB_PATH`); the HTTP port is chosen by the manager (`MANAGER_HTTP_PORT=0`)
/// and read from its log.
public func withManager<T>(
    environment: [String: String] = [:],
    _ body: (URL) async throws -> T
) async throws -> T {
    let manager = try await ManagerProcess.start(environment: environment)
    do {
        let result = try await body(manager.baseURL)
        await manager.stop()
        return result
    } catch {
        await manager.stop()
        throw error
    }
}
