/// The life of a task: `pending` → `running` → `completed` | `failed` | `stopped`.
public enum TaskState: String, Sendable, Hashable, Codable, CaseIterable {
    case pending, running, completed, failed, stopped

    /// Whether the task has ended (no further transitions except a restart).
    public var isFinished: Bool {
        switch self {
        case .completed, .failed, .stopped: true
        case .pending, .running: false
        }
    }
}
