import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

@testable import PropellerProplet

/// The two Wasm runtimes, as arguments of one parameterized test suite (SPEC §5: both give the same
/// results, errors, exit codes and limits).
enum RuntimeUnderTest: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case wasmkit
    case wasmtime

    var testDescription: String { rawValue }

    /// The proplet's environment for this runtime.
    var environment: [String: String] {
        switch self {
        case .wasmkit: ["PROPLET_WASM_RUNTIME": "wasmkit"]
        case .wasmtime: ["PROPLET_WASM_RUNTIME": "wasmtime", "PROPLET_WASMTIME_PATH": BinaryLocator.wasmtime]
        }
    }

    /// The runtime, resolved as a proplet resolves it at start-up (Wasmtime reports its version).
    func make(stateDirectory: String) async throws -> any TaskRuntime {
        var configuration = PropletConfiguration()
        configuration.stateDirectory = stateDirectory
        configuration.runnerPath = BinaryLocator.path(of: "propeller-wasm")
        configuration.wasmRuntime = self == .wasmkit ? .wasmkit : .wasmtime
        configuration.wasmtimePath = BinaryLocator.wasmtime
        return try await TaskRuntimes.resolve(configuration)
    }
}

/// Runs one task through a runtime with the same steps as `TaskSupervisor` (files, launch, spawn with
/// the kernel limits, outcome, interpretation), without MQTT, so a test sees the process's exit too.
enum RuntimeHarness {
    /// How one task ended.
    struct Run {
        /// The task's result as the proplet would publish it (without ids, times and metrics).
        var result: TaskResult
        /// The process's exit, nil when the task ended before any process ran.
        var exit: PropellerProplet.ChildProcess.Exit?
    }

    /// Runs `name` of `module` under `runtime`. `whileRunning` is called once the process runs; it can
    /// stop it (returning the stop reason the supervisor would record).
    static func run(
        _ runtime: RuntimeUnderTest,
        module: [UInt8],
        name: String,
        inputs: [TaskInput] = [],
        env: [String: String] = [:],
        cliArgs: [String] = [],
        daemon: Bool = false,
        limits: TaskLimits = .none,
        whileRunning: ((PropellerProplet.ChildProcess) async throws -> TaskStopReason?)? = nil
    ) async throws -> Run {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runtime-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let command = StartCommand(
            id: "task-\(UUID().uuidString.prefix(8).lowercased())",
            name: name,
            propletID: "p",
            file: Data(module).base64EncodedString(),
            inputs: inputs,
            env: env,
            cliArgs: cliArgs,
            daemon: daemon,
            monitoringProfile: .standard,
            limits: limits
        )
        let taskRuntime = try await runtime.make(stateDirectory: directory.path)
        let files = try TaskFiles.write(command, limits: limits, into: directory.appendingPathComponent("tasks").path)
        let launch = try await taskRuntime.launch(
            files.job,
            jobPath: files.jobPath,
            module: files.module,
            digest: files.digest
        )
        guard case .process(let plan) = launch else {
            guard case .finished(let outcome) = launch else { preconditionFailure() }
            return Run(result: RunnerResultInterpreter.result(of: outcome), exit: nil)
        }
        let child = try PropellerProplet.ChildProcess.spawn(
            executable: plan.executable,
            arguments: plan.arguments,
            environment: plan.environment,
            stdoutRetention: plan.stdoutRetention,
            limits: TaskSupervisor<ContinuousClock>.processLimits(limits)
        )
        var stopReason: TaskStopReason?
        if let whileRunning {
            do {
                stopReason = try await whileRunning(child)
            } catch {
                child.signal(SIGKILL)
                _ = await child.waitForExit()
                throw error
            }
        }
        let exit = await child.waitForExit()
        let result = RunnerResultInterpreter.result(
            of: exit,
            outcome: plan.outcome(exit),
            stopReason: stopReason,
            limits: limits
        )
        return Run(result: result, exit: exit)
    }

    /// Runs an export of a fixture.
    static func call(
        _ runtime: RuntimeUnderTest,
        _ fixture: String,
        _ name: String,
        _ inputs: [TaskInput] = [],
        limits: TaskLimits = .none
    ) async throws -> TaskResult {
        try await run(runtime, module: Fixtures.wasm(fixture), name: name, inputs: inputs, limits: limits).result
    }
}
