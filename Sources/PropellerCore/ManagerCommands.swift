/// Start command: `control/manager/start` (manager → proplets).
public struct StartCommand: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var propletID: String
    /// The module, base64-encoded; nil when `imageURL` is given.
    public var file: String?
    public var imageURL: String?
    public var inputs: [TaskInput]
    public var env: [String: String]
    public var cliArgs: [String]
    public var daemon: Bool
    /// Always the full, resolved profile.
    public var monitoringProfile: MonitoringProfile
    /// The task's limits (SPEC §5); absent or null in a message means none.
    public var limits: TaskLimits

    public init(
        id: String,
        name: String,
        propletID: String,
        file: String? = nil,
        imageURL: String? = nil,
        inputs: [TaskInput] = [],
        env: [String: String] = [:],
        cliArgs: [String] = [],
        daemon: Bool = false,
        monitoringProfile: MonitoringProfile,
        limits: TaskLimits = .none
    ) {
        self.id = id
        self.name = name
        self.propletID = propletID
        self.file = file
        self.imageURL = imageURL
        self.inputs = inputs
        self.env = env
        self.cliArgs = cliArgs
        self.daemon = daemon
        self.monitoringProfile = monitoringProfile
        self.limits = limits
    }

    enum CodingKeys: String, CodingKey {
        case id, name
        case propletID = "proplet_id"
        case file
        case imageURL = "image_url"
        case inputs, env
        case cliArgs = "cli_args"
        case daemon
        case monitoringProfile = "monitoring_profile"
        case limits
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIdentifier(.id)
        name = try container.decode(String.self, forKey: .name)
        propletID = try container.decodeIdentifier(.propletID)
        file = try container.decodeIfPresent(String.self, forKey: .file)
        imageURL = try container.decodeIfPresent(String.self, forKey: .imageURL)
        inputs = try container.decodeIfPresent([TaskInput].self, forKey: .inputs) ?? []
        env = try container.decodeIfPresent([String: String].self, forKey: .env) ?? [:]
        cliArgs = try container.decodeIfPresent([String].self, forKey: .cliArgs) ?? []
        daemon = try container.decodeIfPresent(Bool.self, forKey: .daemon) ?? false
        if container.contains(.monitoringProfile), try !container.decodeNil(forKey: .monitoringProfile) {
            let requested = try container.decode(JSONValue.self, forKey: .monitoringProfile)
            monitoringProfile = try MonitoringProfile.resolve(requested, daemon: daemon)
        } else {
            monitoringProfile = .automatic(daemon: daemon)
        }
        limits = try container.decodeIfPresent(TaskLimits.self, forKey: .limits) ?? .none
        if file == nil && imageURL == nil {
            throw ContractError.missingField(field: "file or image_url")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(propletID, forKey: .propletID)
        try container.encodeIfPresent(file, forKey: .file)
        try container.encodeIfPresent(imageURL, forKey: .imageURL)
        try container.encode(inputs, forKey: .inputs)
        try container.encode(env, forKey: .env)
        try container.encode(cliArgs, forKey: .cliArgs)
        try container.encode(daemon, forKey: .daemon)
        try container.encode(monitoringProfile, forKey: .monitoringProfile)
        try container.encode(limits, forKey: .limits)
    }
}

/// Stop command: `control/manager/stop` (manager → proplets).
public struct StopCommand: Sendable, Hashable, Codable {
    public var id: String
    public var propletID: String

    public init(id: String, propletID: String) {
        self.id = id
        self.propletID = propletID
    }

    enum CodingKeys: String, CodingKey {
        case id
        case propletID = "proplet_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIdentifier(.id)
        propletID = try container.decodeIdentifier(.propletID)
    }
}
