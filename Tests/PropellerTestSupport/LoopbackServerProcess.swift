import Foundation
import PropellerLauncher

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A test server child process (registry, Python helper) whose stdout and stderr go to a file; `stop()`
/// terminates it and waits, so no server outlives its test.
public final class LoopbackServerProcess: Sendable {
    private let process: LaunchedProcess

    private init(process: LaunchedProcess) {
        self.process = process
    }

    /// Starts `executable` with `arguments`, output appended to `output`.
    public static func start(
        executable: String,
        arguments: [String],
        output: URL
    ) async throws
        -> LoopbackServerProcess
    {
        do {
            return LoopbackServerProcess(
                process: try await ProcessLauncher.launch(executable, arguments: arguments, output: .file(output.path))
            )
        } catch {
            throw TestServerError(description: "cannot start \(executable): \(error)")
        }
    }

    /// Whether the process is still running.
    public var isRunning: Bool { process.isRunning }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// Sends SIGTERM (SIGKILL after 5 s) and waits for the exit.
    public func stop() async {
        await process.terminate(grace: .seconds(5))
    }
}

extension LoopbackServerProcess {
    /// Polls `url` until it answers HTTP (any status) or 15 s pass or the process exits.
    public static func waitForHTTP(_ url: String, process: LoopbackServerProcess) async -> Bool {
        guard let target = URL(string: url) else { return false }
        for _ in 0..<150 {
            if !process.isRunning { return false }
            var request = URLRequest(url: target)
            request.timeoutInterval = 2
            if let (_, response) = try? await URLSession.shared.data(for: request), response is HTTPURLResponse {
                return true
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
