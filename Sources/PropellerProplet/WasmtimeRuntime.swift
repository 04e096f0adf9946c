import Foundation
import PropellerCore
import PropellerWasm

#if canImport(Glibc)
import Glibc
#endif

/// The Wasmtime runtime: each task's process is the Wasmtime CLI running the module compiled ahead of
/// time (`wasmtime compile`, once per module digest and Wasmtime version, cached in
/// `<state dir>/wasmtime/<version>/<digest>.cwasm`) with `--allow-precompiled`.
///
/// The module is planned with `WasmtimeInvocation` first, so exports, inputs and errors follow the same
/// rules as WasmKit. A memory limit becomes `-W max-memory-size` (the limit minus `memoryReserveBytes`
/// for Wasmtime itself) with `trap-on-grow-failure`. CPU time and the timeout are the supervisor's.
package struct WasmtimeRuntime: TaskRuntime {
    /// The Wasmtime CLI executable (absolute).
    package var path: String
    /// Its version, from `wasmtime --version` (`49.0.3`).
    package var version: String
    /// Where compiled modules are kept.
    package var cacheDirectory: String

    /// Resident memory of Wasmtime itself, taken out of a task's memory limit for its linear memory.
    /// Measured here (docs/architecture.md "Limits"): a precompiled task is 16–20 MiB RSS, most of it
    /// Wasmtime's own code pages; 48 MiB of linear memory peaked at 66 MiB.
    package static let memoryReserveBytes: Int64 = 18 << 20

    /// The environment of every Wasmtime process: nothing of the proplet's, and no Rust backtraces in
    /// its error reports (the guest sees only the task's `env`, passed with `--env`).
    package static let environment = ["RUST_BACKTRACE=0", "PATH=/usr/bin:/bin"]

    package var description: String { "wasmtime \(version)" }

    /// Creates a runtime for an executable of a known version.
    package init(path: String, version: String, stateDirectory: String) {
        self.path = path
        self.version = version
        self.cacheDirectory = stateDirectory + "/wasmtime/" + version
    }

    /// Finds the Wasmtime CLI (`PROPLET_WASMTIME_PATH`: a path, or a name looked up on PATH) and reads
    /// its version.
    ///
    /// - Throws: `PropletError.runtimeUnavailable` naming `PROPLET_WASMTIME_PATH` and the path when
    ///   there is no such executable or it does not answer `--version` like Wasmtime.
    package static func resolve(_ configured: String, stateDirectory: String) async throws(PropletError) -> Self {
        guard let path = ExecutableLookup.find(configured) else {
            throw .runtimeUnavailable(
                variable: "PROPLET_WASMTIME_PATH",
                path: configured,
                reason: configured.contains("/") ? "no executable file there" : "not found on PATH"
            )
        }
        let exit: ChildProcess.Exit
        do {
            exit = try await ChildProcess.spawn(executable: path, arguments: ["--version"], environment: environment)
                .waitForExit()
        } catch {
            throw .runtimeUnavailable(variable: "PROPLET_WASMTIME_PATH", path: path, reason: "\(error)")
        }
        let words = String(decoding: exit.stdout, as: UTF8.self).split(separator: " ")
        guard exit.termination == .exited(code: 0), words.count >= 2, words[0] == "wasmtime" else {
            throw .runtimeUnavailable(
                variable: "PROPLET_WASMTIME_PATH",
                path: path,
                reason: "`\(path) --version` did not print a Wasmtime version"
            )
        }
        return Self(path: path, version: String(words[1]).trimmingWhitespace, stateDirectory: stateDirectory)
    }

    package func launch(
        _ job: RunnerJob,
        jobPath: String,
        module: [UInt8],
        digest: String
    ) async throws(PropletError) -> TaskLaunch {
        let invocation: WasmtimeInvocation
        do {
            invocation = try WasmtimeInvocation(job: job, interface: ModuleInterface(bytes: module))
        } catch {
            return .finished(RunnerOutcome(state: .failed, error: error.description))
        }
        let compiled: String
        switch try await precompiled(job.modulePath, digest: digest) {
        case .success(let path): compiled = path
        case .failure(let error): return .finished(RunnerOutcome(state: .failed, error: error.description))
        }
        var arguments = ["run", "--allow-precompiled"]
        let cap = job.limits.memoryBytes.map { limit in max(0, limit - Self.memoryReserveBytes) / 65_536 * 65_536 }
        if let cap { arguments += ["-W", "max-memory-size=\(cap),trap-on-grow-failure=y"] }
        arguments += invocation.runArguments(modulePath: compiled, environment: job.env)
        let memoryLimit = job.limits.memoryBytes
        let retention: ChildProcess.OutputRetention =
            if case .command = invocation.mode { .head(limit: 1 << 20) } else { .tail(limit: 64 << 10) }
        return .process(
            TaskProcessPlan(
                executable: path,
                arguments: arguments,
                environment: Self.environment,
                stdoutRetention: retention
            ) { exit in
                guard case .exited(let code)? = exit.termination else { return nil }
                let output = WasmtimeInvocation.Output(
                    exitCode: code,
                    stdout: exit.stdout,
                    stdoutTotalBytes: exit.stdoutTotalBytes,
                    stderr: exit.stderrTail,
                    memoryCapBytes: cap,
                    memoryLimitBytes: memoryLimit
                )
                return invocation.outcome(output)
            }
        )
    }

    /// The compiled module for a digest: from the cache, or compiled now (into a temporary file renamed
    /// into place, so concurrent tasks of one module never see a partial file).
    func precompiled(_ modulePath: String, digest: String) async throws(PropletError) -> Result<String, WasmRunError> {
        let target = "\(cacheDirectory)/\(digest).cwasm"
        if access(target, R_OK) == 0 { return .success(target) }
        do {
            try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        } catch {
            throw .stateDirectory(path: cacheDirectory, reason: error.localizedDescription)
        }
        let temporary = "\(target).\(UUID().uuidString.prefix(8)).tmp"
        let exit = try await ChildProcess.spawn(
            executable: path,
            arguments: ["compile", "-o", temporary, modulePath],
            environment: Self.environment
        ).waitForExit()
        guard exit.termination == .exited(code: 0) else {
            unlink(temporary)
            return .failure(WasmtimeInvocation.compileError(stderr: exit.stderrTail))
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .stateDirectory(path: cacheDirectory, reason: "cannot store the compiled module: \(reason)")
        }
        return .success(target)
    }
}

/// Finds executables the way a shell does.
enum ExecutableLookup {
    /// `name` itself when it contains a `/`, otherwise the first `PATH` entry holding it; nil when it is
    /// not an executable file.
    static func find(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        guard !name.isEmpty else { return nil }
        if name.contains("/") { return isExecutable(name) ? name : nil }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    static func isExecutable(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }
}
