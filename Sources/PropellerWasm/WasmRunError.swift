import PropellerCore

/// Why a Wasm task failed. Every case carries what is needed for a message an operator can act on;
/// `description` is the text that goes into the task's `error`.
public enum WasmRunError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The module file could not be read.
    case unreadableModule(path: String, reason: String)
    /// The bytes are not a valid Wasm module.
    case invalidModule(reason: String)
    /// The module could not be instantiated (for example an import nobody provides).
    case instantiationFailed(reason: String)
    /// `name` is not an exported function and the module has no `_start` to run as a WASI command.
    case missingExport(name: String, availableFunctions: [String])
    /// The number of inputs does not match the export's parameters.
    case wrongInputCount(export: String, expected: [String], given: [String])
    /// One input cannot be converted to its parameter's type.
    case invalidInput(export: String, position: Int, expected: String, given: String, expectedTypes: [String])
    /// The export has a parameter type that cannot be given as a task input (v128, references).
    case unsupportedParameter(export: String, position: Int, type: String)
    /// The module trapped.
    case trap(export: String, reason: String)
    /// A WASI command exited with a non-zero code.
    case nonZeroExit(code: Int, stderrTail: String)
    /// Any other failure while running the module.
    case runtime(reason: String)
    /// The module's memory would have grown past the task's memory limit (SPEC §5 "Limits").
    case memoryLimitExceeded(limitBytes: Int64)

    /// The message for the task's `error` field.
    public var description: String {
        switch self {
        case .unreadableModule(let path, let reason):
            return "cannot read module file \(path): \(reason)"
        case .invalidModule(let reason):
            return "invalid wasm module: \(reason)"
        case .instantiationFailed(let reason):
            return "cannot instantiate wasm module: \(reason)"
        case .missingExport(let name, let functions):
            let list = functions.isEmpty ? "none" : functions.joined(separator: ", ")
            return "module has no exported function named \"\(name)\" and no _start to run it as a WASI command; "
                + "exported functions: \(list)"
        case .wrongInputCount(let export, let expected, let given):
            return "export \"\(export)\" takes \(expected.count) input\(expected.count == 1 ? "" : "s") "
                + "(\(expected.joined(separator: ", "))), got \(given.count): [\(given.joined(separator: ", "))]"
        case .invalidInput(let export, let position, let expected, let given, let types):
            return "export \"\(export)\" (\(types.joined(separator: ", "))): input \(position + 1) must be "
                + "\(expected), got \(given)"
        case .unsupportedParameter(let export, let position, let type):
            return "export \"\(export)\" parameter \(position + 1) has type \(type), which a task input cannot "
                + "provide (accepted parameter types: i32, i64, f32, f64)"
        case .trap(let export, let reason):
            return "wasm trap in \"\(export)\": \(reason)"
        case .nonZeroExit(let code, let stderrTail):
            let tail = stderrTail.isEmpty ? "(stderr empty)" : "stderr: \(stderrTail)"
            return "exited with code \(code); \(tail)"
        case .runtime(let reason):
            return "wasm runtime error: \(reason)"
        case .memoryLimitExceeded(let bytes):
            return TaskLimits.Exceeded.memory(bytes: bytes).message
        }
    }
}
