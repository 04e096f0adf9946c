/// Why the proplet stops a running task.
package enum TaskStopReason: Sendable, Hashable {
    /// A `stop` command from the manager.
    case requested
    /// The proplet is shutting down.
    case shutdown
}
