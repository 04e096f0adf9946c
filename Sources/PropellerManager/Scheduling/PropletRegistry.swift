import Logging
import PropellerCore

/// The registry of proplets: registrations, heartbeats, last wills, liveness and deletion.
///
/// `last_seen` is the manager's receive time (never the proplet's clock, which may be skewed). A
/// proplet whose last message is older than the timeout, or whose last will (`status: offline`)
/// arrives, is marked not alive and its running tasks become `failed` with `proplet lost`. After a
/// manager restart, silence is counted from the restart (a stored `last_seen` from before it is not
/// held against a proplet that is still running).
public final class PropletRegistry: Sendable {
    let lifecycle: TaskLifecycle
    /// Seconds of silence after which a proplet is not alive.
    public let timeoutSeconds: Int
    /// When this registry started: silence is counted from here at the earliest, so a restarted manager
    /// gives every stored proplet a full timeout to send its next heartbeat before declaring it lost.
    let startedAt: Timestamp

    var store: any Store { lifecycle.store }
    var logger: Logger { lifecycle.logger }

    /// Creates the registry; silence is counted from now at the earliest.
    public init(lifecycle: TaskLifecycle, timeoutSeconds: Int) {
        self.lifecycle = lifecycle
        self.timeoutSeconds = timeoutSeconds
        startedAt = lifecycle.time.now()
    }

    /// A registration (`control/proplet/create`): the proplet is alive, with its name and metadata.
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
            if existing?.alive != true {
                self.logger.info(
                    "proplet registered",
                    metadata: ["proplet.id": "\(proplet.id)", "proplet.name": "\(proplet.name)"]
                )
            }
        }
    }

    /// A heartbeat or a last will (`control/proplet/alive`).
    public func heartbeat(_ heartbeat: PropletHeartbeat) async throws(ManagerError) {
        try await lifecycle.locked { () throws(ManagerError) in
            let existing = try await self.lifecycle.guarded("read proplet") {
                try await self.store.proplet(id: heartbeat.propletID)
            }
            switch heartbeat.status {
            case .alive:
                let proplet = Proplet(
                    id: heartbeat.propletID,
                    name: existing?.name ?? heartbeat.propletID,
                    alive: true,
                    lastSeen: self.lifecycle.time.now(),
                    runningTasks: heartbeat.runningTasks,
                    metadata: existing?.metadata
                )
                try await self.lifecycle.guarded("upsert proplet") { try await self.store.upsertProplet(proplet) }
                self.lifecycle.metrics.setPropletAlive(id: proplet.id, alive: true)
                if existing?.alive != true {
                    self.logger.info("proplet alive", metadata: ["proplet.id": "\(proplet.id)"])
                }
            case .offline:
                guard var proplet = existing else { return }
                proplet.alive = false
                proplet.runningTasks = 0
                try await self.markLost(proplet, reason: "last will")
            }
        }
    }

    /// Marks every alive proplet silent for longer than the timeout as not alive; returns their ids.
    @discardableResult
    public func sweep() async throws(ManagerError) -> [String] {
        try await lifecycle.locked { () throws(ManagerError) in
            let deadline = self.lifecycle.time.now().adding(seconds: -Double(self.timeoutSeconds))
            var lost: [String] = []
            let proplets = try await self.lifecycle.allProplets()
            for var proplet in proplets where proplet.alive && max(proplet.lastSeen, self.startedAt) < deadline {
                proplet.alive = false
                proplet.runningTasks = 0
                try await self.markLost(proplet, reason: "timeout")
                lost.append(proplet.id)
            }
            self.lifecycle.removeStaleGauges()
            return lost
        }
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
            _ = try await self.lifecycle.guarded("delete proplet") { try await self.store.deleteProplet(id: id) }
            self.lifecycle.metrics.removeProplet(id: id)
            self.logger.info("proplet deleted", metadata: ["proplet.id": "\(id)"])
        }
    }

    private func markLost(_ proplet: Proplet, reason: String) async throws(ManagerError) {
        try await lifecycle.guarded("upsert proplet") { try await self.store.upsertProplet(proplet) }
        lifecycle.metrics.setPropletAlive(id: proplet.id, alive: false)
        logger.warning("proplet not alive", metadata: ["proplet.id": "\(proplet.id)", "reason": "\(reason)"])
        try await lifecycle.failRunningTasks(propletID: proplet.id)
    }
}
