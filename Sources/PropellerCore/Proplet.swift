/// A proplet as the manager knows it (SPEC §4 `GET /proplets/{id}`).
public struct Proplet: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var alive: Bool
    public var lastSeen: Timestamp
    public var runningTasks: Int
    public var metadata: PropletMetadata?

    public init(
        id: String,
        name: String,
        alive: Bool,
        lastSeen: Timestamp,
        runningTasks: Int,
        metadata: PropletMetadata?
    ) {
        self.id = id
        self.name = name
        self.alive = alive
        self.lastSeen = lastSeen
        self.runningTasks = runningTasks
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case id, name, alive
        case lastSeen = "last_seen"
        case runningTasks = "running_tasks"
        case metadata
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(alive, forKey: .alive)
        try container.encode(lastSeen, forKey: .lastSeen)
        try container.encode(runningTasks, forKey: .runningTasks)
        try container.encode(metadata, forKey: .metadata)
    }
}
