import PropellerCore
import WasmKit

/// A job planned for the Wasmtime CLI with the same rules as `WasmTaskRunner` (SPEC §5): the same
/// choice between an export and a WASI command, the same input conversion and the same error texts,
/// decided from the module's `ModuleInterface` before Wasmtime runs. `outcome(…)` reads what Wasmtime
/// printed back into a `RunnerOutcome`.
public struct WasmtimeInvocation: Sendable, Equatable {
    /// What Wasmtime runs.
    public enum Mode: Sendable, Equatable {
        /// `--invoke name` with the inputs converted to the export's types (as text Wasmtime parses);
        /// `resultType` is the type of the first result, nil when the export returns nothing.
        case export(name: String, arguments: [String], resultType: ValueType?)
        /// `_start` as a WASI command with argv `[programName] + arguments`.
        case command(programName: String, arguments: [String])
    }

    /// What Wasmtime runs.
    public var mode: Mode

    /// Plans a job: an exported function named `job.name` (other than `_start`) is called; otherwise a
    /// module with `_start` runs as a command.
    ///
    /// - Throws: `WasmRunError.missingExport`, `.wrongInputCount`, `.invalidInput`, `.unsupportedParameter`,
    ///   with the texts `WasmTaskRunner` uses.
    public init(job: RunnerJob, interface: ModuleInterface) throws(WasmRunError) {
        if job.name != "_start", let type = interface.type(of: job.name) {
            let values = try InputConversion.arguments(for: job.inputs, parameters: type.parameters, export: job.name)
            mode = .export(name: job.name, arguments: values.map(Self.argumentText), resultType: type.results.first)
        } else if interface.type(of: "_start") != nil {
            mode = .command(
                programName: WasmTaskRunner.programName(for: job),
                arguments: job.cliArgs + job.inputs.map(\.description)
            )
        } else {
            throw .missingExport(name: job.name, availableFunctions: interface.functionNames)
        }
    }

    /// The arguments of `wasmtime run` after its options: the environment (`--env K=V`, sorted), then
    /// `--invoke NAME MODULE ARGS…` or `--argv0 NAME MODULE ARGS…`.
    public func runArguments(modulePath: String, environment: [String: String]) -> [String] {
        var arguments = environment.sorted { $0.key < $1.key }.flatMap { ["--env", "\($0.key)=\($0.value)"] }
        switch mode {
        case .export(let name, let values, _):
            arguments += ["--invoke", name, modulePath] + values
        case .command(let programName, let argv):
            arguments += ["--argv0", programName, modulePath] + argv
        }
        return arguments
    }

    /// How a value is written for Wasmtime's argument parser: integers signed, floats as the shortest
    /// decimal, `nan`, `inf` or `-inf`.
    static func argumentText(_ value: Value) -> String {
        switch value {
        case .i32(let bits): String(Int32(bitPattern: bits))
        case .i64(let bits): String(Int64(bitPattern: bits))
        case .f32, .f64: ResultFormatting.text(value)
        default: ResultFormatting.text(value)
        }
    }

    /// What Wasmtime's process produced, read the way `WasmTaskRunner` reports it.
    public struct Output: Sendable {
        /// Its exit status (a process killed by a signal is not an outcome: the caller reports it).
        public var exitCode: Int32
        /// The first bytes of its stdout (at least `stdoutLimit` when it wrote that much).
        public var stdout: [UInt8]
        /// Every byte it wrote to stdout.
        public var stdoutTotalBytes: Int
        /// The tail of its stderr.
        public var stderr: [UInt8]
        /// The `max-memory-size` given to Wasmtime, when the task has a memory limit.
        public var memoryCapBytes: Int64?
        /// The task's memory limit, for the error when the cap was hit.
        public var memoryLimitBytes: Int64?

        /// Creates an output.
        public init(
            exitCode: Int32,
            stdout: [UInt8],
            stdoutTotalBytes: Int,
            stderr: [UInt8],
            memoryCapBytes: Int64? = nil,
            memoryLimitBytes: Int64? = nil
        ) {
            self.exitCode = exitCode
            self.stdout = stdout
            self.stdoutTotalBytes = stdoutTotalBytes
            self.stderr = stderr
            self.memoryCapBytes = memoryCapBytes
            self.memoryLimitBytes = memoryLimitBytes
        }
    }

    /// The outcome of a Wasmtime run that exited.
    public func outcome(_ output: Output, stdoutLimit: Int = 1 << 20, stderrTailLimit: Int = 2048) -> RunnerOutcome {
        let failure = WasmtimeDiagnostics(stderr: output.stderr)
        switch mode {
        case .export(let name, _, let resultType):
            if let error = failure.error(in: name, output: output) {
                return RunnerOutcome(state: .failed, error: error.description)
            }
            guard output.exitCode == 0 else {
                return RunnerOutcome(
                    state: .failed,
                    error: "export \"\(name)\" called proc_exit with code \(output.exitCode)",
                    exitCode: Int(output.exitCode)
                )
            }
            guard let resultType else { return RunnerOutcome(state: .completed) }
            let text = String(decoding: output.stdout, as: UTF8.self)
            guard let line = text.split(whereSeparator: \.isNewline).last.map(String.init),
                let value = Self.value(line, as: resultType)
            else {
                let shown = String(text.suffix(200))
                return RunnerOutcome(state: .failed, error: "wasm runtime error: wasmtime printed no result: \(shown)")
            }
            return RunnerOutcome(state: .completed, results: ResultFormatting.text(value))
        case .command:
            let capture = OutputCapture.Output(
                bytes: Array(output.stdout.prefix(stdoutLimit)),
                totalBytes: output.stdoutTotalBytes
            )
            let results = WasmTaskRunner.text(of: capture, limit: stdoutLimit)
            if let error = failure.error(in: "_start", output: output) {
                return RunnerOutcome(state: .failed, results: results, error: error.description)
            }
            guard output.exitCode == 0 else {
                let tail = String(decoding: output.stderr.suffix(stderrTailLimit), as: UTF8.self)
                let error = WasmRunError.nonZeroExit(code: Int(output.exitCode), stderrTail: tail)
                return RunnerOutcome(
                    state: .failed,
                    results: results,
                    error: error.description,
                    exitCode: Int(output.exitCode)
                )
            }
            return RunnerOutcome(state: .completed, results: results, exitCode: 0)
        }
    }

    /// A result line Wasmtime printed (`-7`, `3.75`, `NaN`, `inf`, `100000000000000000000`) as a value.
    static func value(_ line: String, as type: ValueType) -> Value? {
        let text = line.trimmingCharacters(in: " \t\r")
        switch type {
        case .i32: return Int32(text).map { .i32(UInt32(bitPattern: $0)) }
        case .i64: return Int64(text).map { .i64(UInt64(bitPattern: $0)) }
        case .f32:
            if let single = Float(text) { return .f32(single.bitPattern) }
            return Self.floating(text).map { .f32(Float($0).bitPattern) }
        case .f64: return Self.floating(text).map { .f64($0.bitPattern) }
        default: return nil
        }
    }

    private static func floating(_ text: String) -> Double? {
        switch text.lowercased() {
        case "nan", "-nan": return .nan
        case "inf", "+inf", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return Double(text)
        }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}

extension WasmtimeInvocation {
    /// The error of a `wasmtime compile` that failed, from its stderr: `invalid wasm module: …` with
    /// Wasmtime's last cause (for example a validation error and its offset).
    public static func compileError(stderr: [UInt8]) -> WasmRunError {
        let diagnostics = WasmtimeDiagnostics(stderr: stderr)
        let text = String(decoding: stderr, as: UTF8.self).trimmingCharacters(in: " \t\r\n")
        return .invalidModule(reason: diagnostics.causes.last ?? (text.isEmpty ? "wasmtime compile failed" : text))
    }
}
