/// Why the proplet stops a running task.
package enum TaskStopReason: Sendable, Hashable {
    /// A `stop` command from the manager.
    case requested
    /// The proplet is shutting down.
    case shutdown
    /// The task ran past its `timeout_seconds` (it fails with the limit's message).
    case timeout(seconds: Int)
}
