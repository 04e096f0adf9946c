import PropellerCore

/// `GET /tasks`: `{offset, limit, total, tasks}`.
struct TaskPageBody: Encodable {
    var offset: Int
    var limit: Int
    var total: Int
    var tasks: [WasmTask]
}

/// `GET /proplets`: `{offset, limit, total, proplets}`.
struct PropletPageBody: Encodable {
    var offset: Int
    var limit: Int
    var total: Int
    var proplets: [Proplet]
}

/// `GET /tasks/{id}/results`: `{task_id, state, results, error, exit_code}` (explicit nulls).
struct ResultsBody: Encodable {
    var taskID: String
    var state: TaskState
    var results: String?
    var error: String?
    var exitCode: Int?

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case state, results, error
        case exitCode = "exit_code"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(state, forKey: .state)
        try container.encode(results, forKey: .results)
        try container.encode(error, forKey: .error)
        try container.encode(exitCode, forKey: .exitCode)
    }
}

/// `GET /tasks/{id}/metrics`: `{task_id, offset, limit, total, metrics, aggregated}`; `aggregated` is null
/// when no sample falls in the range.
struct TaskSamplesBody: Encodable {
    var taskID: String
    var offset: Int
    var limit: Int
    var total: Int
    var metrics: [TaskSample]
    var aggregated: AggregatedMetrics?

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case offset, limit, total, metrics, aggregated
    }

    func encode(to encoder: any Encoder) throws {
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
struct PropletSamplesBody: Encodable {
    var propletID: String
    var offset: Int
    var limit: Int
    var total: Int
    var metrics: [PropletSample]

    enum CodingKeys: String, CodingKey {
        case propletID = "proplet_id"
        case offset, limit, total, metrics
    }
}

/// `GET /health` and `/health/ready`: `{status, version, mqtt, storage}`.
struct HealthBody: Encodable {
    var status: String
    var version: String
    var mqtt: String
    var storage: String
}
