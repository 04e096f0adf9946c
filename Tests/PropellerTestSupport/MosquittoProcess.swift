import Foundation
import Synchronization

/// The `mosquitto` child process behind a `MosquittoBroker`: started in the foreground, stopped with
/// SIGTERM then SIGKILL, restartable on the same port.
final class MosquittoProcess: Sendable {
    let port: Int
    let directory: URL
    private let running = Mutex<SpawnedProcess?>(nil)

    init(port: Int, directory: URL) {
        self.port = port
        self.directory = directory
    }

    /// Starts `mosquitto -c mosquitto.conf` and waits (up to 10 s) until it accepts TCP connections.
    func start() async throws {
        if running.withLock({ $0?.isRunning ?? false }) { return }
        let process = try SpawnedProcess(
            "/usr/sbin/mosquitto",
            arguments: ["-c", directory.appendingPathComponent("mosquitto.conf").path],
            outputFile: directory.appendingPathComponent("mosquitto.stderr").path
        )
        running.withLock { $0 = process }

        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if !process.isRunning { break }
            if LoopbackPort.acceptsConnections(port) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        await stop()
        throw MosquittoBrokerError.didNotStart(port: port, log: logText())
    }

    /// Stops the broker: SIGTERM, then SIGKILL if it has not exited within 5 s. Always reaps it.
    func stop() async {
        let process = running.withLock { value -> SpawnedProcess? in
            defer { value = nil }
            return value
        }
        await process?.terminate()
    }

    /// Sends `signal` (e.g. SIGKILL) to the broker, waits for it to exit and reaps it.
    func kill(signal: Int32) async {
        let process = running.withLock { value -> SpawnedProcess? in
            defer { value = nil }
            return value
        }
        guard let process else { return }
        process.send(signal)
        _ = await process.waitForExit(timeout: .seconds(10))
        await process.terminate()
    }

    /// The pid of the running broker, or nil when it is stopped.
    var processIdentifier: Int32? {
        running.withLock { $0?.isRunning == true ? $0?.processIdentifier : nil }
    }

    private func logText() -> String {
        ["mosquitto.stderr", "mosquitto.log"]
            .compactMap { try? String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8) }
            .joined(separator: "\n")
    }

    /// Runs a short command-line tool to completion and returns its exit status.
    static func runTool(_ path: String, arguments: [String]) async throws -> Int32 {
        let process = try SpawnedProcess(path, arguments: arguments)
        guard let status = await process.waitForExit(timeout: .seconds(30)) else {
            await process.terminate()
            return -1
        }
        return status
    }
}
