import Logging
import PropellerCore
import Synchronization

/// The registry of proplets: registrations, heartbeats, last wills, liveness and deletion (SPEC §4).
///
/// `last_seen` is the manager's receive time of the last registration or heartbeat (never the
/// proplet's clock, which may be skewed; a last will is not a sign of life). The recorded states tell
/// the truth about the processes:
/// - A last will, or silence longer than 2.5 heartbeat intervals (as observed, at least 3 s), marks the
///   proplet `alive: false` at once: it gets no new tasks. Its running tasks stay `running` — a broker
///   restart publishes every client's will, and a short network cut is not a lost process.
/// - Only after `MANAGER_PROPLET_TIMEOUT` without a heartbeat do its running tasks become `failed`
///   with `proplet lost`. A proplet that never completed a registration is forgotten then (its row
///   removed); it is never schedulable.
/// - A heartbeat's `task_ids` reconcile the tasks with what the proplet runs (`TaskLifecycle.reconcile`).
/// After a manager restart, silence is counted from the restart.
public final class PropletRegistry: Sendable {
    let lifecycle: TaskLifecycle
    /// Seconds of silence after which a proplet's tasks are failed.
    public let timeoutSeconds: Int
    /// When this registry started: silence is counted from here at the earliest, so a restarted manager
    /// gives every stored proplet a full timeout to send its next heartbeat before declaring it lost.
    let startedAt: Timestamp
    /// Observed time between two heartbeats, per proplet (seconds).
    private let intervals = Mutex<[String: Double]>([:])

    var store: any Store { lifecycle.store }
    var logger: Logger { lifecycle.logger }

    /// Creates the registry; silence is counted from now at the earliest.
    public init(lifecycle: TaskLifecycle, timeoutSeconds: Int) {
        self.lifecycle = lifecycle
        self.timeoutSeconds = timeoutSeconds
        startedAt = lifecycle.time.now()
    }

    /// A registration (`control/proplet/{id}/create`): the proplet is alive, with its name and metadata.
    public func register(_ registration: PropletRegistration) async throws(ManagerError) {
        try await lifecycle.locked { () throws(ManagerError) in
            let existing = try await self.lifecycle.guarded("read proplet") {
                try await self.store.proplet(id: registration.propletID)
            }
            let proplet = Proplet(
                id: registration.propletID,
                name: registration.name,
                alive: true,
                lastSeen: self.lifecycle.time.now(),
                runningTasks: existing?.runningTasks ?? 0,
                metadata: registration.metadata
            )
            try await self.lifecycle.guarded("upsert proplet") { try await self.store.upsertProplet(proplet) }
            self.lifecycle.metrics.setPropletAlive(id: proplet.id, alive: true)
            if existing?.alive != true || existing?.metadata == nil {
                self.logger.info(
                    "proplet registered",
                    metadata: ["proplet.id": "\(proplet.id)", "proplet.name": "\(proplet.name)"]
                )
            }
        }
    }

    /// A heartbeat or a last will (`control/proplet/{id}/alive`). Returns whether the proplet is
    /// registered (false asks the caller to say hello, so it registers).
    @discardableResult
    public func heartbeat(_ heartbeat: PropletHeartbeat) async throws(ManagerError) -> Bool {
        try await lifecycle.locked { () throws(ManagerError) in
            let existing = try await self.lifecycle.guarded("read proplet") {
                try await self.store.proplet(id: heartbeat.propletID)
            }
            let now = self.lifecycle.time.now()
            switch heartbeat.status {
            case .alive:
                if let previous = existing?.lastSeen, previous >= self.startedAt {
                    let gap = Double(now.microsecondsSinceEpoch - previous.microsecondsSinceEpoch) / 1e6
                    if gap > 0.2 { self.intervals.withLock { $0[heartbeat.propletID] = gap } }
                }
                let proplet = Proplet(
                    id: heartbeat.propletID,
                    name: existing?.name ?? heartbeat.propletID,
                    alive: true,
                    lastSeen: now,
                    runningTasks: heartbeat.runningTasks,
                    metadata: existing?.metadata
                )
                try await self.lifecycle.guarded("upsert proplet") { try await self.store.upsertProplet(proplet) }
                self.lifecycle.metrics.setPropletAlive(id: proplet.id, alive: true)
                if existing?.alive != true {
                    self.logger.info("proplet alive", metadata: ["proplet.id": "\(proplet.id)"])
                }
                if let taskIDs = heartbeat.taskIDs {
                    try await self.lifecycle.reconcile(propletID: proplet.id, taskIDs: taskIDs)
                }
                return proplet.metadata != nil
            case .offline:
                guard var proplet = existing else { return true }
                if proplet.alive {
                    proplet.alive = false
                    try await self.lifecycle.guarded("upsert proplet") { try await self.store.upsertProplet(proplet) }
                    self.lifecycle.metrics.setPropletAlive(id: proplet.id, alive: false)
                    self.logger.warning(
                        "proplet not alive; its tasks keep their state until the timeout",
                        metadata: ["proplet.id": "\(proplet.id)", "reason": "last will or offline"]
                    )
                }
                return true
            }
        }
    }

    /// Marks proplets that missed heartbeats as not alive; fails the running tasks of proplets silent
    /// for longer than the timeout and forgets unregistered ones. Returns the ids whose tasks were
    /// failed or that were forgotten.
    @discardableResult
    public func sweep() async throws(ManagerError) -> [String] {
        try await lifecycle.locked { () throws(ManagerError) in
            let now = self.lifecycle.time.now()
            let deadline = now.adding(seconds: -Double(self.timeoutSeconds))
            var lost: [String] = []
            let proplets = try await self.lifecycle.allProplets()
            for var proplet in proplets {
                let lastSeen = max(proplet.lastSeen, self.startedAt)
                if lastSeen < deadline {
                    if proplet.metadata == nil {
                        try await self.forget(proplet.id)
                        lost.append(proplet.id)
                        continue
                    }
                    let running = try await self.lifecycle.guarded("read running tasks") {
                        try await self.store.runningTasks(propletID: proplet.id)
                    }
                    if proplet.alive || proplet.runningTasks != 0 || !running.isEmpty {
                        proplet.alive = false
                        proplet.runningTasks = 0
                        try await self.markLost(proplet)
                        lost.append(proplet.id)
                    }
                } else if proplet.alive, lastSeen < now.adding(seconds: -self.missedHeartbeatSeconds(proplet.id)) {
                    proplet.alive = false
                    let updated = proplet
                    try await self.lifecycle.guarded("upsert proplet") { try await self.store.upsertProplet(updated) }
                    self.lifecycle.metrics.setPropletAlive(id: proplet.id, alive: false)
                    self.logger.warning(
                        "proplet not alive; its tasks keep their state until the timeout",
                        metadata: ["proplet.id": "\(proplet.id)", "reason": "missed heartbeats"]
                    )
                }
            }
            self.lifecycle.removeStaleGauges()
            return lost
        }
    }

    /// Silence after which a proplet has missed heartbeats: 2.5 observed intervals, at least 3 s, at
    /// most the timeout.
    private func missedHeartbeatSeconds(_ id: String) -> Double {
        let interval = intervals.withLock { $0[id] } ?? Double(timeoutSeconds)
        return min(Double(timeoutSeconds), max(3, 2.5 * interval))
    }

    /// A stored proplet, or `notFound`.
    public func proplet(id: String) async throws(ManagerError) -> Proplet {
        guard let proplet = try await lifecycle.guarded("read proplet", { try await self.store.proplet(id: id) }) else {
            throw .notFound("proplet \(id) not found")
        }
        return proplet
    }

    /// Deletes a proplet; `conflict` while it runs tasks.
    public func delete(id: String) async throws(ManagerError) {
        try await lifecycle.locked { () throws(ManagerError) in
            let proplet = try await self.proplet(id: id)
            let running = try await self.lifecycle.guarded("read running tasks") {
                try await self.store.runningTasks(propletID: id)
            }
            guard running.isEmpty, !proplet.alive || proplet.runningTasks == 0 else {
                let count = max(running.count, proplet.runningTasks)
                throw .conflict("proplet \(id) is running \(count) task(s); stop them before deleting it")
            }
            try await self.forget(id)
            self.logger.info("proplet deleted", metadata: ["proplet.id": "\(id)"])
        }
    }

    private func forget(_ id: String) async throws(ManagerError) {
        _ = try await lifecycle.guarded("delete proplet") { try await self.store.deleteProplet(id: id) }
        try await lifecycle.guarded("forget delivery ledger") { try await self.store.forgetDelivery(propletID: id) }
        intervals.withLock { $0[id] = nil }
        lifecycle.metrics.removeProplet(id: id)
    }

    private func markLost(_ proplet: Proplet) async throws(ManagerError) {
        try await lifecycle.guarded("upsert proplet") { try await self.store.upsertProplet(proplet) }
        lifecycle.metrics.setPropletAlive(id: proplet.id, alive: false)
        logger.warning(
            "proplet lost: no heartbeat within the timeout",
            metadata: ["proplet.id": "\(proplet.id)", "timeout": "\(timeoutSeconds)"]
        )
        try await lifecycle.failRunningTasks(propletID: proplet.id)
    }
}
