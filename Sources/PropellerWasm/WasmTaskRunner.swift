import PropellerCore
import WASI
import WasmKit
import WasmKitWASI

/// Runs one Wasm task to its end on the calling thread (SPEC §5) and describes how it ended.
///
/// - A function export named `job.name` (other than `_start`) is called with the job's inputs converted
///   to its parameter types; `results` is its first return value as text.
/// - Otherwise a module exporting `_start` runs as a WASI preview 1 command with argv
///   `[program name] + cli_args + inputs` and the job's environment; `results` is its stdout, capped at
///   `Configuration.stdoutLimit`; a non-zero exit fails with the code and the tail of stderr.
/// - A module that is neither fails, naming the export and listing the exported functions.
///
/// WASI is linked for every module, so core exports may use it too (clocks, `poll_oneoff`); an
/// export's own stdout goes to the runner's stderr, which keeps the runner's stdout for its report.
/// WasmKit cannot interrupt a running call: call this on a thread of its own (in the runner process,
/// the main thread) and stop a task by ending its process.
public struct WasmTaskRunner: Sendable {
    /// Limits and descriptors of a run; every default in one place.
    public struct Configuration: Sendable {
        /// Bytes of a command's stdout kept as `results`. Default 1 MiB (SPEC §5).
        public var stdoutLimit: Int
        /// Bytes of stderr quoted in the error of a command that exits non-zero. Default 2 KiB.
        public var stderrTailLimit: Int
        /// Where the guest's stderr (and a core export's stdout) is copied as it is written; nil
        /// discards it. Default 2, the runner's own stderr.
        public var diagnosticsDescriptor: Int32?

        /// Creates a configuration; the defaults are the ones above.
        public init(stdoutLimit: Int = 1 << 20, stderrTailLimit: Int = 2048, diagnosticsDescriptor: Int32? = 2) {
            self.stdoutLimit = stdoutLimit
            self.stderrTailLimit = stderrTailLimit
            self.diagnosticsDescriptor = diagnosticsDescriptor
        }
    }

    /// The limits of this runner.
    public var configuration: Configuration

    /// Creates a runner.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Runs the job and reports `completed` or `failed`; never throws. Returns only when the module has
    /// finished (a daemon that never finishes keeps this call running until the process is killed).
    public func run(_ job: RunnerJob) -> RunnerOutcome {
        do {
            return try runOrThrow(job)
        } catch {
            return RunnerOutcome(state: .failed, error: error.description)
        }
    }

    private func runOrThrow(_ job: RunnerJob) throws(WasmRunError) -> RunnerOutcome {
        let module = try Self.loadModule(path: job.modulePath)
        let functions = module.exports.compactMap { export -> String? in
            guard case .function = export.descriptor else { return nil }
            return export.name
        }
        if job.name != "_start", functions.contains(job.name) {
            return try callExport(module, job: job)
        }
        if functions.contains("_start") {
            return try runCommand(module, job: job)
        }
        throw .missingExport(name: job.name, availableFunctions: functions)
    }

    /// Reads and parses a module file.
    static func loadModule(path: String) throws(WasmRunError) -> Module {
        let bytes: [UInt8]
        do {
            bytes = try HostFile.read(path)
        } catch {
            throw .unreadableModule(path: path, reason: error.reason)
        }
        do {
            return try parseWasm(bytes: bytes)
        } catch {
            throw .invalidModule(reason: parseErrorText("\(error)"))
        }
    }

    /// WasmKit 0.4.2 describes parse errors as `"Message(text: \"…\")" at offset 0x4`; keeps the text
    /// and the offset.
    static func parseErrorText(_ description: String) -> String {
        let prefix = "\"Message(text: \""
        let suffix = "\")\""
        guard description.hasPrefix(prefix), let end = description.ranges(of: suffix).last else {
            return description
        }
        let text = description[description.index(description.startIndex, offsetBy: prefix.count)..<end.lowerBound]
        let rest = description[end.upperBound...].drop(while: { $0 == " " })
        return rest.isEmpty ? String(text) : "\(text) (\(rest))"
    }

    /// The program name a command sees as argv[0]: the task's name, or `task` when the name is `_start`.
    static func programName(for job: RunnerJob) -> String {
        job.name.isEmpty || job.name == "_start" ? "task" : job.name
    }
}

// MARK: - Core export

extension WasmTaskRunner {
    private func callExport(_ module: Module, job: RunnerJob) throws(WasmRunError) -> RunnerOutcome {
        let diagnostics = configuration.diagnosticsDescriptor ?? Self.nullDescriptor
        let wasi = try Self.bridge(
            args: [Self.programName(for: job)] + job.cliArgs,
            environment: job.env,
            stdout: diagnostics,
            stderr: diagnostics
        )
        let outcome = Result { () throws(WasmRunError) -> RunnerOutcome in
            let instance = try Self.instantiate(module, wasi: wasi, memoryLimit: job.limits.memoryBytes)
            // A WASI reactor must be initialised before any other export is called.
            do {
                try wasi.initialize(instance)
            } catch {
                throw Self.executionError(error, in: "_initialize")
            }
            guard let function = instance.exports[function: job.name] else {
                throw .missingExport(name: job.name, availableFunctions: [])
            }
            let arguments = try InputConversion.arguments(
                for: job.inputs,
                parameters: function.type.parameters,
                export: job.name
            )
            do {
                let values = try function.invoke(arguments)
                return RunnerOutcome(state: .completed, results: ResultFormatting.results(values))
            } catch let exit as WASIExitCode {
                // The export called proc_exit: report it like a command's exit.
                let code = Int(exit.code)
                guard code == 0 else {
                    let error = "export \"\(job.name)\" called proc_exit with code \(code)"
                    return RunnerOutcome(state: .failed, error: error, exitCode: code)
                }
                return RunnerOutcome(state: .completed, exitCode: 0)
            } catch {
                throw Self.executionError(error, in: job.name)
            }
        }
        Self.close(wasi)
        return try outcome.get()
    }
}
