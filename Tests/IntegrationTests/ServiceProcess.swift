import Foundation
import PropellerTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A `propeller manager` or `propeller proplet` process started with an environment, its output in a file.
final class ServiceProcess: @unchecked Sendable {
    let process = Process()
    let logURL: URL

    /// Starts `propeller ARGUMENTS` with the given environment (configuration only through SPEC §6 variables).
    init(_ arguments: [String], environment: [String: String], directory: URL) throws {
        logURL = directory.appendingPathComponent("\(arguments.joined(separator: "-"))-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = URL(fileURLWithPath: BinaryLocator.path(of: "propeller"))
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.currentDirectoryURL = directory
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Sends a signal and waits (up to 10 s) for the process to exit.
    func terminate(_ signal: Int32 = SIGTERM) async {
        guard process.isRunning else { return }
        kill(pid, signal)
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(pid, SIGKILL) }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
