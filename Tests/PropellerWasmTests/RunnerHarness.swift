import Foundation
import PropellerCore
import PropellerLauncher
import PropellerTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `propeller-wasm` binary on a job, as the proplet does: module and job written to a
/// scratch directory, the runner's stdout and stderr sent to files (so nothing can block on a pipe).
/// Started with `ProcessLauncher`, the one launcher of the dev stack and the tests.
final class RunnerHarness {
    /// Whether the runner exited or a signal ended it.
    enum Ending: Equatable {
        case exit
        case uncaughtSignal
    }

    /// How one runner process ended.
    struct Finished {
        /// The exit status, or the signal number when a signal ended it.
        var status: Int32
        var reason: Ending
        var stdout: String
        var stderr: String

        /// The single JSON line the runner printed, decoded.
        func outcome() throws -> RunnerOutcome {
            let lines = stdout.split(separator: "\n", omittingEmptySubsequences: true)
            guard lines.count == 1, let line = lines.first else {
                throw HarnessError.notOneLine(stdout: stdout, stderr: stderr)
            }
            return try WireCoding.decode(RunnerOutcome.self, from: Data(line.utf8))
        }
    }

    enum HarnessError: Error, CustomStringConvertible {
        case notOneLine(stdout: String, stderr: String)
        case timedOut(seconds: Double)

        var description: String {
            switch self {
            case .notOneLine(let stdout, let stderr):
                "expected one JSON line on stdout, got: \(stdout); stderr: \(stderr)"
            case .timedOut(let seconds): "the runner did not exit within \(seconds) s"
            }
        }
    }

    let directory: URL
    private let process: LaunchedProcess
    private let stdoutFile: URL
    private let stderrFile: URL

    /// Writes the module and the job, and starts `propeller-wasm JOB_FILE`.
    /// - Parameter module: the module bytes, written as `task.wasm`; `job.modulePath` is replaced by its path
    ///   unless `keepModulePath` is true.
    convenience init(module: [UInt8], job: RunnerJob, keepModulePath: Bool = false) async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("propeller-wasm-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let modulePath = directory.appendingPathComponent("task.wasm")
        try Data(module).write(to: modulePath)
        var job = job
        if !keepModulePath { job.modulePath = modulePath.path }
        let jobPath = directory.appendingPathComponent("job.json")
        try WireCoding.encode(job).write(to: jobPath)
        try await self.init(directory: directory, arguments: [jobPath.path])
    }

    /// Starts the runner with raw arguments in an existing scratch directory.
    /// stdin is `/dev/null`; the environment is this process's.
    init(directory: URL, arguments: [String]) async throws {
        self.directory = directory
        stdoutFile = directory.appendingPathComponent("stdout")
        stderrFile = directory.appendingPathComponent("stderr")
        process = try await ProcessLauncher.launch(
            BinaryLocator.path(of: "propeller-wasm"),
            arguments: arguments,
            output: .file(stdoutFile.path),
            error: .file(stderrFile.path)
        )
    }

    deinit {
        // The launcher reaps it; a signal after that is not sent.
        process.send(SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Process id of the running runner.
    var pid: Int32 { process.processIdentifier }

    /// Whether the runner process is still alive.
    var isRunning: Bool { process.isRunning }

    /// Sends a signal to the runner.
    func signal(_ number: Int32) {
        process.send(number)
    }

    /// Waits for the runner to exit (killing it after `timeout`) and returns what it printed.
    func finish(timeout: Double = 60) async throws -> Finished {
        guard let status = await process.waitForExit(timeout: .milliseconds(Int(timeout * 1000))) else {
            signal(SIGKILL)
            throw HarnessError.timedOut(seconds: timeout)
        }
        let signal = process.terminationSignal
        return Finished(
            status: signal ?? status,
            reason: signal == nil ? .exit : .uncaughtSignal,
            stdout: (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
        )
    }

    /// Runs a job to its end and returns the decoded outcome (checking exit status 0 and one stdout line).
    static func outcome(of module: [UInt8], _ job: RunnerJob) async throws -> RunnerOutcome {
        let finished = try await RunnerHarness(module: module, job: job).finish()
        guard finished.reason == .exit, finished.status == 0 else {
            throw HarnessError.notOneLine(stdout: "exit status \(finished.status)", stderr: finished.stderr)
        }
        return try finished.outcome()
    }

    /// Runs an export of a fixture with the given inputs.
    static func call(_ fixture: String, _ name: String, _ inputs: [TaskInput] = []) async throws -> RunnerOutcome {
        try await outcome(of: Fixtures.wasm(fixture), RunnerJob(modulePath: "", name: name, inputs: inputs))
    }
}

extension RunnerHarness {
    /// A value from `/proc/PID/status` in kB (for example `VmRSS`), or nil once the process is gone.
    func statusKilobytes(_ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("\(field):") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// User + system CPU time of the runner so far, in clock ticks (`/proc/PID/stat` fields 14 and 15).
    func cpuTicks() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command name: field 3 (state) is index 0, so utime (14) is index 11.
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }
}
