import Logging
import PropellerCore

/// The registry of proplets: registrations, heartbeats, last wills, liveness and deletion.
///
/// `last_seen` is the manager's receive time (never the proplet's clock, which may be skewed). A
/// proplet whose last message is older than the timeout, or whose last will (`status: offline`)
/// arrives, is marked not alive and its running tasks become `failed` with `proplet lost` — each in one
/// store operation. After a manager restart, silence is counted from the restart (a stored `last_seen`
/// from before it is not held against a proplet that is still running).
public final class PropletRegistry: Sendable {
    let store: any Store
    let metrics: ManagerMetrics
    let time: any TimeSource
    let logger: Logger
    /// Seconds of silence after which a proplet is not alive.
    public let timeoutSeconds: Int
    /// When this registry started: silence is counted from here at the earliest, so a restarted manager
    /// gives every stored proplet a full timeout to send its next heartbeat before declaring it lost.
    let startedAt: Timestamp

    /// Creates the registry; silence is counted from now at the earliest.
    public init(store: any Store, metrics: ManagerMetrics, time: any TimeSource, timeoutSeconds: Int, logger: Logger) {
        self.store = store
        self.metrics = metrics
        self.time = time
        self.timeoutSeconds = timeoutSeconds
        self.logger = logger
        startedAt = time.now()
    }

    /// A registration (`control/proplet/create`): the proplet is alive, with its name and metadata.
    public func register(_ registration: PropletRegistration) async throws(ManagerError) {
        let update = try await call("register proplet") {
            try await self.store.registerProplet(registration, at: self.time.now())
        }
        metrics.setPropletAlive(id: update.proplet.id, alive: true)
        if !update.wasAlive {
            logger.info(
                "proplet registered",
                metadata: ["proplet.id": "\(update.proplet.id)", "proplet.name": "\(update.proplet.name)"]
            )
        }
    }

    /// A heartbeat or a last will (`control/proplet/alive`).
    public func heartbeat(_ heartbeat: PropletHeartbeat) async throws(ManagerError) {
        switch heartbeat.status {
        case .alive:
            let update = try await call("record heartbeat") {
                try await self.store.recordHeartbeat(
                    propletID: heartbeat.propletID,
                    runningTasks: heartbeat.runningTasks,
                    at: self.time.now()
                )
            }
            metrics.setPropletAlive(id: update.proplet.id, alive: true)
            if !update.wasAlive { logger.info("proplet alive", metadata: ["proplet.id": "\(update.proplet.id)"]) }
        case .offline:
            guard
                let loss = try await call("mark proplet lost", {
                    try await self.store.markPropletLost(id: heartbeat.propletID, at: self.time.now())
                })
            else { return }
            record(loss, reason: "last will")
        }
    }

    /// Marks every alive proplet silent for longer than the timeout as not alive (failing its running
    /// tasks); returns their ids.
    @discardableResult
    public func sweep() async throws(ManagerError) -> [String] {
        let now = time.now()
        let deadline = now.adding(seconds: -Double(timeoutSeconds))
        var lost: [String] = []
        // Until a full timeout has passed since this registry started, nobody has been silent too long.
        if startedAt < deadline {
            let losses = try await call("mark silent proplets lost") {
                try await self.store.markSilentPropletsLost(seenBefore: deadline, at: now)
            }
            for loss in losses { record(loss, reason: "timeout") }
            lost = losses.map(\.proplet.id)
        }
        metrics.removeStaleTaskGauges()
        return lost
    }

    /// A stored proplet, or `notFound`.
    public func proplet(id: String) async throws(ManagerError) -> Proplet {
        guard let proplet = try await call("read proplet", { try await self.store.proplet(id: id) }) else {
            throw .notFound("proplet \(id) not found")
        }
        return proplet
    }

    /// A page of proplets in id order.
    public func list(page: Page) async throws(ManagerError) -> PageResult<Proplet> {
        try await call("list proplets") { try await self.store.proplets(page: page) }
    }

    /// A page of a proplet's own samples in a range.
    public func samples(
        id: String,
        range: TimeRange,
        order: SampleOrder,
        page: Page
    ) async throws(ManagerError) -> (proplet: Proplet, samples: PageResult<PropletSample>) {
        let proplet = try await proplet(id: id)
        let samples = try await call("read proplet samples") {
            try await self.store.propletSamples(propletID: proplet.id, range: range, order: order, page: page)
        }
        return (proplet, samples)
    }

    /// Deletes a proplet; `conflict` while it runs tasks.
    public func delete(id: String) async throws(ManagerError) {
        switch try await call("delete proplet", { try await self.store.deleteProplet(id: id) }) {
        case .deleted:
            metrics.removeProplet(id: id)
            logger.info("proplet deleted", metadata: ["proplet.id": "\(id)"])
        case .notFound:
            throw .notFound("proplet \(id) not found")
        case .busy(let count):
            throw .conflict("proplet \(id) is running \(count) task(s); stop them before deleting it")
        }
    }

    private func record(_ loss: PropletLoss, reason: String) {
        metrics.setPropletAlive(id: loss.proplet.id, alive: false)
        logger.warning("proplet not alive", metadata: ["proplet.id": "\(loss.proplet.id)", "reason": "\(reason)"])
        for task in loss.failedTasks {
            metrics.taskEnded(id: task.id)
            logger.warning(
                "task failed: proplet lost",
                metadata: ["task.id": "\(task.id)", "proplet.id": "\(loss.proplet.id)"]
            )
        }
    }

    private func call<T>(_ operation: String, _ body: () async throws -> T) async throws(ManagerError) -> T {
        try await storeCall(operation, logger: logger, body)
    }
}
