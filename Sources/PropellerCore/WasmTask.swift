/// A task as the manager stores and serves it (SPEC §4 `GET /tasks/{id}`).
///
/// Named `WasmTask` so it never shadows Swift's `Task`.
public struct WasmTask: Sendable, Hashable, Codable {
    public var id: String
    /// The export to call (or `_start` for a WASI command).
    public var name: String
    /// The module's digest, size and source — never its bytes (SPEC §4: `GET /tasks/{id}/module`
    /// serves those). Nil only for a task built without one (tests of other fields).
    public var module: TaskModule?
    /// Where the proplet fetches the module; nil for an uploaded module.
    public var imageURL: String?
    public var inputs: [TaskInput]
    public var env: [String: String]
    public var cliArgs: [String]
    public var daemon: Bool
    /// The resolved profile.
    public var monitoringProfile: MonitoringProfile
    /// The limits the task asked for (SPEC §5); the proplet applies its defaults and ceilings.
    public var limits: TaskLimits = .none
    /// The client's labels (SPEC §4): at most 16, keys `[a-z_][a-z0-9_]*`; exported on `propeller_task_info`.
    public var labels: [String: String] = [:]
    public var state: TaskState
    public var propletID: String?
    public var results: String?
    public var error: String?
    public var exitCode: Int?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?

    public init(
        id: String,
        name: String,
        module: TaskModule? = nil,
        imageURL: String? = nil,
        inputs: [TaskInput] = [],
        env: [String: String] = [:],
        cliArgs: [String] = [],
        daemon: Bool = false,
        monitoringProfile: MonitoringProfile,
        state: TaskState = .pending,
        propletID: String? = nil,
        results: String? = nil,
        error: String? = nil,
        exitCode: Int? = nil,
        createdAt: Timestamp,
        updatedAt: Timestamp,
        startedAt: Timestamp? = nil,
        finishedAt: Timestamp? = nil
    ) {
        self.id = id
        self.name = name
        self.module = module
        self.imageURL = imageURL
        self.inputs = inputs
        self.env = env
        self.cliArgs = cliArgs
        self.daemon = daemon
        self.monitoringProfile = monitoringProfile
        self.state = state
        self.propletID = propletID
        self.results = results
        self.error = error
        self.exitCode = exitCode
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, module
        case imageURL = "image_url"
        case inputs, env
        case cliArgs = "cli_args"
        case daemon
        case monitoringProfile = "monitoring_profile"
        case limits, labels
        case state
        case propletID = "proplet_id"
        case results, error
        case exitCode = "exit_code"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    /// Encodes every key; absent optional values are explicit nulls.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(module, forKey: .module)
        try container.encode(imageURL, forKey: .imageURL)
        try container.encode(inputs, forKey: .inputs)
        try container.encode(env, forKey: .env)
        try container.encode(cliArgs, forKey: .cliArgs)
        try container.encode(daemon, forKey: .daemon)
        try container.encode(monitoringProfile, forKey: .monitoringProfile)
        try container.encode(limits, forKey: .limits)
        try container.encode(labels, forKey: .labels)
        try container.encode(state, forKey: .state)
        try container.encode(propletID, forKey: .propletID)
        try container.encode(results, forKey: .results)
        try container.encode(error, forKey: .error)
        try container.encode(exitCode, forKey: .exitCode)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
    }
}
