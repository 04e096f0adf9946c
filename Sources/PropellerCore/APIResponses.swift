/// The response bodies of the manager's REST API (SPEC §4) as types: the manager encodes them, and the
/// CLI, `propeller dev`'s demo and the integration tests decode them, so a renamed field fails to compile
/// instead of failing a lookup at run time. Optional fields are always written (explicit `null`).

/// `GET /tasks`: `{offset, limit, total, tasks}`.
public struct TaskPage: Sendable, Hashable, Codable {
    public var offset: Int
    public var limit: Int
    public var total: Int
    public var tasks: [WasmTask]

    public init(offset: Int, limit: Int, total: Int, tasks: [WasmTask]) {
        self.offset = offset
        self.limit = limit
        self.total = total
        self.tasks = tasks
    }
}

/// `GET /proplets`: `{offset, limit, total, proplets}`.
public struct PropletPage: Sendable, Hashable, Codable {
    public var offset: Int
    public var limit: Int
    public var total: Int
    public var proplets: [Proplet]

    public init(offset: Int, limit: Int, total: Int, proplets: [Proplet]) {
        self.offset = offset
        self.limit = limit
        self.total = total
        self.proplets = proplets
    }
}

/// `GET /tasks/{id}/results`: `{task_id, state, results, error, exit_code}`.
public struct TaskResults: Sendable, Hashable, Codable {
    public var taskID: String
    public var state: TaskState
    public var results: String?
    public var error: String?
    public var exitCode: Int?

    public init(taskID: String, state: TaskState, results: String?, error: String?, exitCode: Int?) {
        self.taskID = taskID
        self.state = state
        self.results = results
        self.error = error
        self.exitCode = exitCode
    }

    /// The results of a stored task.
    public init(_ task: WasmTask) {
        self.init(taskID: task.id, state: task.state, results: task.results, error: task.error, exitCode: task.exitCode)
    }

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case state, results, error
        case exitCode = "exit_code"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(state, forKey: .state)
        try container.encode(results, forKey: .results)
        try container.encode(error, forKey: .error)
        try container.encode(exitCode, forKey: .exitCode)
    }
}

/// `GET /tasks/{id}/metrics`: `{task_id, offset, limit, total, metrics, aggregated}`; `aggregated` is
/// null when no sample falls in the range.
public struct TaskMetricsPage: Sendable, Hashable, Codable {
    public var taskID: String
    public var offset: Int
    public var limit: Int
    public var total: Int
    public var metrics: [TaskSample]
    public var aggregated: AggregatedMetrics?

    public init(
        taskID: String,
        offset: Int,
        limit: Int,
        total: Int,
        metrics: [TaskSample],
        aggregated: AggregatedMetrics?
    ) {
        self.taskID = taskID
        self.offset = offset
        self.limit = limit
        self.total = total
        self.metrics = metrics
        self.aggregated = aggregated
    }

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case offset, limit, total, metrics, aggregated
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(offset, forKey: .offset)
        try container.encode(limit, forKey: .limit)
        try container.encode(total, forKey: .total)
        try container.encode(metrics, forKey: .metrics)
        try container.encode(aggregated, forKey: .aggregated)
    }
}

/// `GET /proplets/{id}/metrics`: `{proplet_id, offset, limit, total, metrics}`.
public struct PropletMetricsPage: Sendable, Hashable, Codable {
    public var propletID: String
    public var offset: Int
    public var limit: Int
    public var total: Int
    public var metrics: [PropletSample]

    public init(propletID: String, offset: Int, limit: Int, total: Int, metrics: [PropletSample]) {
        self.propletID = propletID
        self.offset = offset
        self.limit = limit
        self.total = total
        self.metrics = metrics
    }

    enum CodingKeys: String, CodingKey {
        case propletID = "proplet_id"
        case offset, limit, total, metrics
    }
}

/// Every error response: `{"error": "<message>"}`.
public struct APIError: Sendable, Hashable, Codable {
    public var error: String

    public init(error: String) { self.error = error }
}

/// `GET /health` and `GET /health/ready`: `{status, version, mqtt, storage}`.
public struct HealthStatus: Sendable, Hashable, Codable {
    /// `ok` when MQTT is connected and the store is writable, else `degraded`.
    public var status: String
    public var version: String
    /// `connected` or `disconnected`.
    public var mqtt: String
    /// `ok`, or what failed.
    public var storage: String

    public init(status: String, version: String, mqtt: String, storage: String) {
        self.status = status
        self.version = version
        self.mqtt = mqtt
        self.storage = storage
    }
}
