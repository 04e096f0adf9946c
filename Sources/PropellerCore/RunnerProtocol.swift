/// What the proplet asks the per-task runner (`propeller-wasm`) to do. The proplet writes it as JSON to
/// a file and runs `propeller-wasm JOB_FILE`; the runner prints one `RunnerOutcome` as JSON on its
/// stdout when the task ends, and logs only to stderr.
public struct RunnerJob: Sendable, Hashable, Codable {
    /// Path of the `.wasm` file.
    public var modulePath: String
    /// The export to call, or `_start` (or a name that is not an export) for a WASI command.
    public var name: String
    public var inputs: [TaskInput]
    public var env: [String: String]
    public var cliArgs: [String]
    public var daemon: Bool
    /// The limits in force (the proplet's defaults and ceilings applied). The runner enforces
    /// `memoryBytes` on `memory.grow`; CPU time and the timeout are enforced by the proplet.
    public var limits: TaskLimits

    public init(
        modulePath: String,
        name: String,
        inputs: [TaskInput] = [],
        env: [String: String] = [:],
        cliArgs: [String] = [],
        daemon: Bool = false,
        limits: TaskLimits = .none
    ) {
        self.modulePath = modulePath
        self.name = name
        self.inputs = inputs
        self.env = env
        self.cliArgs = cliArgs
        self.daemon = daemon
        self.limits = limits
    }

    enum CodingKeys: String, CodingKey {
        case modulePath = "module_path"
        case name, inputs, env
        case cliArgs = "cli_args"
        case daemon, limits
    }

    /// Decodes a job; `limits` may be absent (no limits).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        modulePath = try container.decode(String.self, forKey: .modulePath)
        name = try container.decode(String.self, forKey: .name)
        inputs = try container.decode([TaskInput].self, forKey: .inputs)
        env = try container.decode([String: String].self, forKey: .env)
        cliArgs = try container.decode([String].self, forKey: .cliArgs)
        daemon = try container.decode(Bool.self, forKey: .daemon)
        limits = try container.decodeIfPresent(TaskLimits.self, forKey: .limits) ?? .none
    }
}

/// How a task run ended, as the runner reports it on stdout.
///
/// **The final-sample handshake** (every runtime's runner follows it, WasmKit's `propeller-wasm` and
/// any Wasmtime runner alike): the runner's stdin is a pipe from the proplet that carries nothing. When
/// the task's work has ended, the runner writes this outcome as one JSON line on stdout and then waits —
/// without exiting, its threads and descriptors still open — until its stdin reaches end of file (the
/// proplet closes it) or 10 s have passed, and only then exits. In between, the proplet reads the live
/// process once more, so the final sample carries every metric the profile collects (threads and fds
/// included) even for a task shorter than one interval. A runner that cannot follow it (it dies, or an
/// external CLI runs as the task process without a wrapper) still works: its final sample then has
/// the last periodic reading's threads and fds, or none.
public struct RunnerOutcome: Sendable, Hashable, Codable {
    /// `completed` or `failed` (a stop is decided by the proplet, not the runner).
    public var state: TaskState
    /// First return value as text, or the WASI command's stdout (capped at 1 MiB).
    public var results: String?
    /// What went wrong, when failed: the trap reason, a missing export, a bad input, a bad module,
    /// a non-zero exit with the tail of stderr.
    public var error: String?
    /// The WASI exit code when the module ran as a command.
    public var exitCode: Int?

    public init(state: TaskState, results: String? = nil, error: String? = nil, exitCode: Int? = nil) {
        self.state = state
        self.results = results
        self.error = error
        self.exitCode = exitCode
    }

    enum CodingKeys: String, CodingKey {
        case state, results, error
        case exitCode = "exit_code"
    }
}
