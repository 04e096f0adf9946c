import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A test server child process (registry, Python helper) whose stdout and stderr go to a file; `stop()`
/// terminates it and waits, so no server outlives its test.
public final class LoopbackServerProcess: Sendable {
    private let process: Process

    private init(process: Process) {
        self.process = process
    }

    /// Starts `executable` with `arguments`, output appended to `output`.
    public static func start(executable: String, arguments: [String], output: URL) throws -> LoopbackServerProcess {
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            try? handle.close()
            throw TestServerError(description: "cannot start \(executable): \(error)")
        }
        try? handle.close()
        return LoopbackServerProcess(process: process)
    }

    /// Whether the process is still running.
    public var isRunning: Bool { process.isRunning }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// Sends SIGTERM (SIGKILL after 5 s) and waits for the exit.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<500 where process.isRunning { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
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
