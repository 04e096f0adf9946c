/// The outcome of a task: `control/proplet/results` (SPEC §2). Exactly one per started task.
public struct TaskResult: Sendable, Hashable, Codable {
    public var taskID: String
    public var propletID: String
    /// `completed`, `failed` or `stopped`.
    public var state: TaskState
    /// The first return value as text, or a WASI command's stdout.
    public var results: String?
    public var error: String?
    public var exitCode: Int?
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?
    /// The final sample and lifetime aggregate, or nil when the task was not monitored.
    public var finalMetrics: FinalMetrics?
    /// The proplet's delivery sequence number (SPEC §2 "Delivery").
    public var seq: UInt64?

    public init(
        taskID: String,
        propletID: String,
        state: TaskState,
        results: String? = nil,
        error: String? = nil,
        exitCode: Int? = nil,
        startedAt: Timestamp? = nil,
        finishedAt: Timestamp? = nil,
        finalMetrics: FinalMetrics? = nil,
        seq: UInt64? = nil
    ) {
        self.taskID = taskID
        self.propletID = propletID
        self.state = state
        self.results = results
        self.error = error
        self.exitCode = exitCode
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.finalMetrics = finalMetrics
        self.seq = seq
    }

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case propletID = "proplet_id"
        case state, results, error
        case exitCode = "exit_code"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case finalMetrics = "final_metrics"
        case seq
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        taskID = try container.decodeIdentifier(.taskID)
        propletID = try container.decodeIdentifier(.propletID)
        state = try container.decode(TaskState.self, forKey: .state)
        guard state.isFinished else {
            throw ContractError.invalidValue(
                field: "state",
                expected: "completed, failed or stopped",
                got: state.rawValue
            )
        }
        results = try container.decodeIfPresent(String.self, forKey: .results)
        error = try container.decodeIfPresent(String.self, forKey: .error)
        exitCode = try container.decodeIfPresent(Int.self, forKey: .exitCode)
        startedAt = try container.decodeIfPresent(Timestamp.self, forKey: .startedAt)
        finishedAt = try container.decodeIfPresent(Timestamp.self, forKey: .finishedAt)
        finalMetrics = try container.decodeIfPresent(FinalMetrics.self, forKey: .finalMetrics)
        seq = try container.decodeSequenceNumberIfPresent(.seq)
    }

    /// Encodes every key, with explicit nulls, as SPEC §2 lists them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(propletID, forKey: .propletID)
        try container.encode(state, forKey: .state)
        try container.encode(results, forKey: .results)
        try container.encode(error, forKey: .error)
        try container.encode(exitCode, forKey: .exitCode)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(finalMetrics, forKey: .finalMetrics)
        try container.encodeIfPresent(seq, forKey: .seq)
    }
}
