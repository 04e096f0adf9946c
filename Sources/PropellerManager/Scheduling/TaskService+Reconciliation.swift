import PropellerCore

extension TaskService {
    /// A task started less than this long ago may not be in a heartbeat yet (its start command is on
    /// its way): reconciliation leaves it alone.
    static let startGraceSeconds = 5.0

    /// Reconciles the recorded tasks with the `task_ids` a proplet's heartbeat reports (SPEC §4), in one
    /// store operation, and acts on the outcome:
    /// - a reported task the manager marked failed goes back to `running` (and is stopped there when a
    ///   stop was asked for meanwhile);
    /// - a reported task that was deleted or runs elsewhere now is stopped on that proplet;
    /// - a task recorded `running` there that it does not report (and not started just now) is `failed`
    ///   with `lost when the proplet restarted`.
    public func reconcile(propletID: String, taskIDs: [String]) async throws(ManagerError) {
        let reported = Set(taskIDs)
        reportedTasks.withLock { $0[propletID] = reported }
        let now = time.now()
        let outcome = try await storeCall("reconcile tasks", logger: logger) {
            try await self.store.reconcileTasks(
                propletID: propletID,
                reported: reported,
                startedBefore: now.adding(seconds: -Self.startGraceSeconds),
                at: now
            )
        }
        for task in outcome.resumed {
            metrics.taskStarted(id: task.id, name: task.name)
            logger.info(
                "task running again: its proplet is back",
                metadata: ["task.id": "\(task.id)", "proplet.id": "\(propletID)"]
            )
            if stopRequested.withLock({ $0.contains(task.id) }) {
                await sendStop(taskID: task.id, propletID: propletID)
            }
        }
        for id in outcome.strays {
            logger.warning(
                "proplet runs a task that was deleted or moved: stopping it there",
                metadata: ["task.id": "\(id)", "proplet.id": "\(propletID)"]
            )
            await sendStop(taskID: id, propletID: propletID)
        }
        for task in outcome.failed {
            metrics.taskEnded(id: task.id)
            logger.warning(
                "task failed: its proplet no longer runs it",
                metadata: ["task.id": "\(task.id)", "proplet.id": "\(propletID)"]
            )
        }
    }

    /// Whether a proplet's last heartbeat listed the task (its process still runs there).
    func isReported(taskID: String, propletID: String) -> Bool {
        reportedTasks.withLock { $0[propletID]?.contains(taskID) ?? false }
    }

    /// Publishes a stop command to a proplet (logged when the broker does not take it).
    func sendStop(taskID: String, propletID: String) async {
        do {
            try await pubsub.publish(
                topics.topic(.managerStop, propletID: propletID),
                json: StopCommand(id: taskID, propletID: propletID),
                qos: .atLeastOnce
            )
        } catch {
            logger.error("stop command not published", metadata: ["task.id": "\(taskID)", "error": "\(error)"])
        }
    }
}
