import PropellerCore

/// One Wasm runtime as the proplet uses it (SPEC §5 "Runtimes"): how the process of a task is started
/// and how its exit becomes an outcome. Implemented by `WasmKitRuntime` (the `propeller-wasm` runner)
/// and `WasmtimeRuntime` (the Wasmtime CLI); `TaskSupervisor` spawns, monitors, limits and stops the
/// process the same way for both.
package protocol TaskRuntime: Sendable {
    /// The registration's `wasm_runtime`: the runtime's name and version (`wasmkit 0.4.2`).
    var description: String { get }

    /// Plans the process of a job. `job.modulePath` is the module file, `jobPath` the job written as
    /// JSON beside it, `digest` the module's SHA-256 in hex. A job that fails before any process could
    /// run (a bad module, a missing export, a wrong input) is `.finished` with that outcome.
    func launch(
        _ job: RunnerJob,
        jobPath: String,
        module: [UInt8],
        digest: String
    ) async throws(PropletError)
        -> TaskLaunch
}

/// How a task runs: a process to spawn, or an outcome decided before any process.
package enum TaskLaunch: Sendable {
    /// Spawn this process.
    case process(TaskProcessPlan)
    /// No process: the task ends with this outcome.
    case finished(RunnerOutcome)
}

/// The process of one task.
package struct TaskProcessPlan: Sendable {
    /// The executable.
    package var executable: String
    /// argv[1…].
    package var arguments: [String]
    /// Its environment (`KEY=VALUE`); nil passes `TaskEnvironment`'s allow-listed variables only.
    package var environment: [String]?
    /// Which stdout bytes to keep for `outcome`.
    package var stdoutRetention: ChildProcess.OutputRetention
    /// The outcome of the exited process; nil when it gave none (a signal, a crash), which the
    /// `RunnerResultInterpreter` then describes.
    package var outcome: @Sendable (ChildProcess.Exit) -> RunnerOutcome?
    /// Whether the process keeps the runner protocol's final-sample handshake (see `RunnerOutcome`):
    /// its stdin is a pipe, and after its first stdout line (its outcome) it waits until the proplet
    /// closes that pipe, so the final sample is read from the live process. False (stdin is
    /// /dev/null, the final sample has the last periodic reading's threads and fds) for a process that
    /// does not, such as the Wasmtime CLI run directly.
    package var finalSampleHandshake: Bool

    /// Creates a plan.
    package init(
        executable: String,
        arguments: [String],
        environment: [String]? = nil,
        stdoutRetention: ChildProcess.OutputRetention = .tail(limit: ChildProcess.stdoutLimit),
        finalSampleHandshake: Bool = false,
        outcome: @escaping @Sendable (ChildProcess.Exit) -> RunnerOutcome?
    ) {
        self.finalSampleHandshake = finalSampleHandshake
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.stdoutRetention = stdoutRetention
        self.outcome = outcome
    }
}

/// The WasmKit runtime: the lean `propeller-wasm JOB_FILE` runner, which prints one `RunnerOutcome`.
package struct WasmKitRuntime: TaskRuntime {
    /// WasmKit's version (the only one in the package mirror, pinned in Package.swift).
    package static let version = "0.4.2"
    /// The runner executable.
    package var runnerPath: String

    /// A runtime spawning `runnerPath`.
    package init(runnerPath: String) { self.runnerPath = runnerPath }

    package var description: String { "wasmkit \(Self.version)" }

    package func launch(_ job: RunnerJob, jobPath: String, module: [UInt8], digest: String) -> TaskLaunch {
        .process(
            TaskProcessPlan(executable: runnerPath, arguments: [jobPath], finalSampleHandshake: true) { exit in
                RunnerResultInterpreter.decodeOutcome(exit.stdout)
            }
        )
    }
}

/// The runtime a configuration names (`PROPLET_WASM_RUNTIME`).
package enum TaskRuntimes {
    /// The configured runtime, checked: the runner or the Wasmtime CLI must be an executable, and
    /// Wasmtime must report its version. A proplet calls this at start-up and refuses to start otherwise.
    ///
    /// - Throws: `PropletError.runtimeUnavailable` naming the variable (`PROPLET_WASMTIME_PATH` or
    ///   `PROPLET_RUNNER_PATH`) and the path.
    package static func resolve(_ configuration: PropletConfiguration) async throws(PropletError) -> any TaskRuntime {
        switch configuration.wasmRuntime {
        case .wasmkit:
            let path = RunnerLocator.runnerPath(configuration)
            guard ExecutableLookup.isExecutable(path) else {
                throw .runtimeUnavailable(
                    variable: "PROPLET_RUNNER_PATH",
                    path: path,
                    reason: "no executable propeller-wasm runner there (it is built beside propeller)"
                )
            }
            return WasmKitRuntime(runnerPath: path)
        case .wasmtime:
            return try await WasmtimeRuntime.resolve(
                configuration.wasmtimePath,
                stateDirectory: configuration.stateDirectory
            )
        }
    }

    /// The configured runtime without checking it (tests that inject their own runner); a Wasmtime
    /// runtime made this way reports the version `unknown`.
    package static func unchecked(_ configuration: PropletConfiguration) -> any TaskRuntime {
        switch configuration.wasmRuntime {
        case .wasmkit:
            WasmKitRuntime(runnerPath: RunnerLocator.runnerPath(configuration))
        case .wasmtime:
            WasmtimeRuntime(
                path: ExecutableLookup.find(configuration.wasmtimePath) ?? configuration.wasmtimePath,
                version: "unknown",
                stateDirectory: configuration.stateDirectory
            )
        }
    }
}
