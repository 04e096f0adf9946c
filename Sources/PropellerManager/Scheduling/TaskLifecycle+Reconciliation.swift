import PropellerCore

extension TaskLifecycle {
    /// Error of a task its proplet no longer runs after a restart (SPEC §4 reconciliation).
    public static let propletRestartedError = "lost when the proplet restarted"

    /// A task started less than this long ago may not be in a heartbeat yet (its start command is on
    /// its way): reconciliation leaves it alone.
    static let startGraceSeconds = 5.0

    /// Reconciles the recorded tasks with the `task_ids` a proplet's heartbeat reports (SPEC §4). Call
    /// under the state lock.
    /// - A reported task the manager marked failed (`proplet lost`, or lost at a restart) goes back to
    ///   `running` — unless a stop was asked for meanwhile: then it is stopped there.
    /// - A reported task that was deleted or runs elsewhere now is stopped on that proplet.
    /// - A task recorded `running` there that it does not report (and not started just now) becomes
    ///   `failed` with `lost when the proplet restarted`.
    func reconcile(propletID: String, taskIDs: [String]) async throws(ManagerError) {
        reportedTasks.withLock { $0[propletID] = Set(taskIDs) }
        let now = time.now()
        for id in Set(taskIDs) {
            let stored = try await guarded("read task") { try await self.store.task(id: id) }
            guard var task = stored, task.propletID == propletID else {
                logger.warning(
                    "proplet runs a task that was deleted or moved: stopping it there",
                    metadata: ["task.id": "\(id)", "proplet.id": "\(propletID)"]
                )
                await sendStop(taskID: id, propletID: propletID)
                continue
            }
            guard IngestRules.isManagerGuess(task) else { continue }
            if stopRequested.withLock({ $0.contains(id) }) {
                await sendStop(taskID: id, propletID: propletID)
                continue
            }
            task.state = .running
            task.error = nil
            task.finishedAt = nil
            task.updatedAt = now
            let updated = task
            try await guarded("update task") { try await self.store.updateTask(updated) }
            markRunning(id: task.id, name: task.name)
            logger.info(
                "task running again: its proplet is back",
                metadata: ["task.id": "\(id)", "proplet.id": "\(propletID)"]
            )
        }
        let reported = Set(taskIDs)
        let running = try await guarded("read running tasks") {
            try await self.store.runningTasks(propletID: propletID)
        }
        let grace = now.adding(seconds: -Self.startGraceSeconds)
        for var task in running where !reported.contains(task.id) && (task.startedAt ?? now) < grace {
            task.state = .failed
            task.error = Self.propletRestartedError
            task.finishedAt = now
            task.updatedAt = now
            let updated = task
            try await guarded("update task") { try await self.store.updateTask(updated) }
            forgetRunning(task.id)
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
