import Subprocess
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Where a launched child's standard output or standard error goes.
public enum LaunchOutput: Sendable, Equatable {
    /// `/dev/null`.
    case discarded
    /// Appended to the file at this path (created `0644` when missing).
    case file(String)
    /// This open descriptor of the caller (duplicated into the child; the caller keeps and closes it).
    case descriptor(Int32)
}

/// When a launched child's exit status is collected.
public enum LaunchReaping: Sendable, Equatable {
    /// As soon as the child exits.
    case automatic
    /// Only when `LaunchedProcess.reap()` is called: until then an exited child stays a zombie, so a test
    /// can observe that state.
    case onRequest
}

/// The one launcher of child processes outside the proplet's task runners: `propeller dev`'s broker,
/// manager and proplet, and every process a test starts. Built on swift-subprocess.
///
/// Each child starts with an empty signal mask and every signal at its default action (swift-subprocess
/// resets them all: `POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF` over the full set). That matters
/// because Swift's concurrency threads block signals and a child inherits the mask: a broker started with
/// `Foundation.Process` ignored SIGTERM. Inherited descriptors other than 0–2 are closed.
public enum ProcessLauncher {
    /// Starts `executable` (a path) with `arguments`. `environment` nil inherits this process's
    /// environment; `workingDirectory` nil keeps this process's; stdin is `/dev/null` unless `standardInput` is a descriptor; `output` and `error` say
    /// where stdout and stderr go (`error` nil: the same place as stdout). `ownProcessGroup` puts the
    /// child into a new process group of its own (its pid), so a terminal's Ctrl-C does not reach it and
    /// `LaunchedProcess.sendToGroup` reaches it and its descendants.
    public static func launch(
        _ executable: String,
        arguments: [String] = [],
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        standardInput: Int32? = nil,
        output: LaunchOutput = .discarded,
        error: LaunchOutput? = nil,
        ownProcessGroup: Bool = false,
        reaping: LaunchReaping = .automatic
    ) async throws -> LaunchedProcess {
        let outputDescriptor = try open(output)
        let errorDescriptor =
            try error.map(open) ?? FileDescriptor(rawValue: fcntl(outputDescriptor.rawValue, F_DUPFD_CLOEXEC, 3))
        let inputDescriptor = standardInput.map { FileDescriptor(rawValue: fcntl($0, F_DUPFD_CLOEXEC, 3)) }
        var options = PlatformOptions()
        if ownProcessGroup { options.processGroupID = 0 }
        let platformOptions = options
        let directory = workingDirectory.map { FilePath($0) }
        let subprocessEnvironment: Environment
        if let environment {
            var keyed: [Environment.Key: String] = [:]
            for (key, value) in environment {
                if let name = Environment.Key(rawValue: key) { keyed[name] = value }
            }
            subprocessEnvironment = .custom(keyed)
        } else {
            subprocessEnvironment = .inherit
        }
        let state = LaunchState(reaping: reaping, ownProcessGroup: ownProcessGroup)
        let started = Started()
        return try await withCheckedThrowingContinuation { continuation in
            started.set(continuation)
            Task {
                do {
                    let result: ExecutionResult<Void, FileDescriptorOutput, FileDescriptorOutput>
                    if let inputDescriptor {
                        result = try await Subprocess.run(
                            .path(FilePath(executable)),
                            arguments: Arguments(arguments),
                            environment: subprocessEnvironment,
                            workingDirectory: directory,
                            platformOptions: platformOptions,
                            input: .fileDescriptor(inputDescriptor, closeAfterSpawningProcess: true),
                            output: .fileDescriptor(outputDescriptor, closeAfterSpawningProcess: true),
                            error: .fileDescriptor(errorDescriptor, closeAfterSpawningProcess: true)
                        ) { execution in
                            await state.supervise(execution.processIdentifier.value, started: started)
                        }
                    } else {
                        result = try await Subprocess.run(
                            .path(FilePath(executable)),
                            arguments: Arguments(arguments),
                            environment: subprocessEnvironment,
                            workingDirectory: directory,
                            platformOptions: platformOptions,
                            input: .none,
                            output: .fileDescriptor(outputDescriptor, closeAfterSpawningProcess: true),
                            error: .fileDescriptor(errorDescriptor, closeAfterSpawningProcess: true)
                        ) { execution in
                            await state.supervise(execution.processIdentifier.value, started: started)
                        }
                    }
                    state.finish(result.terminationStatus)
                } catch {
                    started.fail(LaunchError(executable: executable, underlying: error))
                    state.finish(nil)
                }
            }
        }
    }

    /// Runs `executable` to completion and returns its exit status (128 + signal for a signal) and the
    /// first `limit` bytes of its stdout and of its stderr. `environment` is added to (and overrides)
    /// this process's. A child still running after `timeout` is killed (SIGKILL), and its status is
    /// then 128 + 9.
    public static func run(
        _ executable: String,
        arguments: [String] = [],
        environment: [String: String] = [:],
        workingDirectory: String? = nil,
        timeout: Duration = .seconds(120),
        limit: Int = 4 << 20
    ) async throws -> LaunchResult {
        let stdout = try TemporaryCapture()
        defer { stdout.remove() }
        let stderr = try TemporaryCapture()
        defer { stderr.remove() }
        let merged = environment.isEmpty ? nil : inheritedEnvironment().merging(environment) { _, new in new }
        let process = try await launch(
            executable,
            arguments: arguments,
            environment: merged,
            workingDirectory: workingDirectory,
            output: .descriptor(stdout.descriptor),
            error: .descriptor(stderr.descriptor)
        )
        var status = await process.waitForExit(timeout: timeout)
        if status == nil {
            process.send(SIGKILL)
            status = await process.waitForExit(timeout: nil)
        }
        return LaunchResult(
            status: status ?? -1,
            standardOutput: stdout.read(limit: limit),
            standardError: stderr.read(limit: limit)
        )
    }

    /// This process's environment as a dictionary.
    public static func inheritedEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }

    private static func open(_ output: LaunchOutput) throws -> FileDescriptor {
        let raw: Int32
        switch output {
        case .discarded: raw = Glibc.open("/dev/null", O_WRONLY | O_CLOEXEC)
        case .file(let path): raw = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        case .descriptor(let descriptor): raw = fcntl(descriptor, F_DUPFD_CLOEXEC, 3)
        }
        guard raw >= 0 else { throw LaunchError(executable: "\(output)", underlying: Errno(rawValue: errno)) }
        return FileDescriptor(rawValue: raw)
    }
}

/// A finished child's exit status and output (`ProcessLauncher.run`).
public struct LaunchResult: Sendable {
    /// The exit status, or 128 + signal number when a signal ended it.
    public var status: Int32
    /// What it wrote on stdout.
    public var standardOutput: String
    /// What it wrote on stderr.
    public var standardError: String
}

/// Launching a child process failed (the executable is missing, not executable, …).
public struct LaunchError: Error, CustomStringConvertible {
    /// The executable that could not be started.
    public let executable: String
    /// swift-subprocess's (or the system's) error.
    public let underlying: any Error

    /// A sentence naming the executable and the reason.
    public var description: String { "could not start \(executable): \(underlying)" }
}

/// A temporary file that collects a child's output for `ProcessLauncher.run`.
private struct TemporaryCapture {
    let path: String
    let descriptor: Int32

    init() throws {
        var template = Array("/tmp/propeller-launch-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw LaunchError(executable: "a temporary output file", underlying: Errno(rawValue: errno))
        }
        self.descriptor = descriptor
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    func read(limit: Int) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var offset: off_t = 0
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, $0.count, offset) }
            guard count > 0 else { break }
            bytes += chunk[..<count]
            offset += off_t(count)
        }
        return String(decoding: bytes.prefix(limit), as: UTF8.self)
    }

    func remove() {
        close(descriptor)
        unlink(path)
    }
}
