/// Everything the proplet reports as an error: bad configuration, an unusable state directory, a task
/// that cannot be prepared or spawned.
///
/// Every case says what was wrong and, where it applies, what is accepted.
public enum PropletError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An environment variable has a value that does not parse.
    case invalidEnvironment(variable: String, expected: String, got: String)
    /// The state directory (saved identity, module files) cannot be used.
    case stateDirectory(path: String, reason: String)
    /// A task's module cannot be obtained (bad base64, `image_url`, unwritable file).
    case moduleUnavailable(reason: String)
    /// The task runner executable could not be started.
    case spawnFailed(path: String, reason: String)
    /// The configured Wasm runtime is not there or does not work (checked at start-up).
    case runtimeUnavailable(variable: String, path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidEnvironment(let variable, let expected, let got):
            "\(variable) must be \(expected), got \"\(got.count > 60 ? String(got.prefix(60)) + "…" : got)\""
        case .stateDirectory(let path, let reason):
            "state directory \(path) is unusable: \(reason)"
        case .moduleUnavailable(let reason):
            reason
        case .spawnFailed(let path, let reason):
            "cannot start the task runner \(path): \(reason)"
        case .runtimeUnavailable(let variable, let path, let reason):
            "the Wasm runtime is unavailable: \(variable) is \"\(path)\": \(reason)"
        }
    }
}
