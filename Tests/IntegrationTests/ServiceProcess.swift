import Foundation
import PropellerLauncher
import PropellerTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A `propeller manager` or `propeller proplet` process started with an environment, its output in a file.
final class ServiceProcess: Sendable {
    let process: LaunchedProcess
    let logURL: URL

    /// Starts `propeller ARGUMENTS` with the given environment (configuration only through SPEC §6 variables).
    init(_ arguments: [String], environment: [String: String], directory: URL) async throws {
        logURL = directory.appendingPathComponent("\(arguments.joined(separator: "-"))-\(UUID().uuidString).log")
        process = try await ProcessLauncher.launch(
            BinaryLocator.path(of: "propeller"),
            arguments: arguments,
            environment: ProcessLauncher.inheritedEnvironment().merging(environment) { _, new in new },
            workingDirectory: directory.path,
            output: .file(logURL.path)
        )
    }

    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Sends a signal and waits (up to 10 s) for the process to exit; SIGKILL after that.
    func terminate(_ signal: Int32 = SIGTERM) async {
        guard process.isRunning else { return }
        process.send(signal)
        if await process.waitForExit(timeout: .seconds(10)) == nil {
            process.send(SIGKILL)
            await process.waitForExit(timeout: nil)
        }
    }

    deinit {
        process.send(SIGKILL)
        let process = process
        Task { await process.waitForExit(timeout: nil) }
    }
}
