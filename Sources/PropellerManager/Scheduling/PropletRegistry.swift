import Logging
import PropellerCore
import Synchronization

/// The registry of proplets: registrations, heartbeats, last wills, liveness and deletion (SPEC §4).
///
/// `last_seen` is the manager's receive time of the last registration or heartbeat (never the
/// proplet's clock, which may be skewed; a last will is not a sign of life). The recorded states tell
/// the truth about the processes:
/// - A last will, or silence longer than 2.5 observed heartbeat intervals (at least 3 s), marks the
///   proplet `alive: false` at once: it gets no new tasks. Its running tasks stay `running` — a broker
///   restart publishes every client's will, and a short network cut is not a lost process.
/// - Only after `MANAGER_PROPLET_TIMEOUT` without a heartbeat do its running tasks become `failed`
///   with `proplet lost` (`markSilentPropletsLost`). A proplet that never completed a registration is
///   forgotten then (its row removed); it is never schedulable.
/// After a manager restart, silence is counted from the restart (a stored `last_seen` from before it is
/// not held against a proplet that is still running).
public final class PropletRegistry: Sendable {
    let store: any Store
    let metrics: ManagerMetrics
    let time: any TimeSource
    let logger: Logger
    /// Seconds of silence after which a proplet's tasks are failed.
    public let timeoutSeconds: Int
    /// When this registry started: silence is counted from here at the earliest, so a restarted manager
    /// gives every stored proplet a full timeout to send its next heartbeat before declaring it lost.
    let startedAt: Timestamp
    /// Observed time between two heartbeats, per proplet.
    private let intervals = Mutex<[String: Interval]>([:])

    /// When the last heartbeat arrived here and the gap before it (seconds).
    private struct Interval {
        var last: Timestamp?
        var seconds: Double?
    }

    /// Creates the registry; silence is counted from now at the earliest.
    public init(store: any Store, metrics: ManagerMetrics, time: any TimeSource, timeoutSeconds: Int, logger: Logger) {
        self.store = store
        self.metrics = metrics
        self.time = time
        self.timeoutSeconds = timeoutSeconds
        self.logger = logger
        startedAt = time.now()
    }

    /// A registration (`control/proplet/{id}/create`): the proplet is alive, with its name and metadata.
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

    /// A heartbeat or a last will (`control/proplet/{id}/alive`). Returns whether the proplet is
    /// registered (false asks the caller to say hello, so that it registers).
    @discardableResult
    public func heartbeat(_ heartbeat: PropletHeartbeat) async throws(ManagerError) -> Bool {
        let now = time.now()
        switch heartbeat.status {
        case .alive:
            let update = try await call("record heartbeat") {
                try await self.store.recordHeartbeat(
                    propletID: heartbeat.propletID,
                    runningTasks: heartbeat.runningTasks,
                    at: now
                )
            }
            observeInterval(propletID: update.proplet.id, now: now)
            metrics.setPropletAlive(id: update.proplet.id, alive: true)
            if !update.wasAlive { logger.info("proplet alive", metadata: ["proplet.id": "\(update.proplet.id)"]) }
            return update.proplet.metadata != nil
        case .offline:
            guard
                let update = try await call(
                    "mark proplet offline",
                    { try await self.store.markPropletOffline(id: heartbeat.propletID, seenBefore: nil, at: now) }
                )
            else { return true }
            metrics.setPropletAlive(id: update.proplet.id, alive: false)
            if update.wasAlive {
                logger.warning(
                    "proplet not alive; its tasks keep their state until the timeout",
                    metadata: ["proplet.id": "\(update.proplet.id)", "reason": "last will"]
                )
            }
            return true
        }
    }

    /// Records the gap since the proplet's previous heartbeat here (its interval, as observed).
    private func observeInterval(propletID: String, now: Timestamp) {
        intervals.withLock { intervals in
            let previous = intervals[propletID]?.last
            intervals[propletID, default: Interval()].last = now
            guard let previous else { return }
            let gap = Double(now.microsecondsSinceEpoch - previous.microsecondsSinceEpoch) / 1e6
            // An early heartbeat (right after a reconnect) does not shrink the interval at once.
            let known = intervals[propletID]?.seconds
            intervals[propletID]?.seconds = known.map { max(gap, 0.75 * $0) } ?? gap
        }
    }

    /// One liveness sweep: forgets proplets that never registered and fails the running tasks of
    /// proplets silent for longer than the timeout (once a full timeout has passed since this registry
    /// started), and marks proplets that missed heartbeats not alive. Returns the ids whose tasks were
    /// failed or that were forgotten.
    @discardableResult
    public func sweep() async throws(ManagerError) -> [String] {
        let now = time.now()
        let deadline = now.adding(seconds: -Double(timeoutSeconds))
        var lost: [String] = []
        // Until a full timeout has passed since this registry started, nobody has been silent too long.
        if startedAt < deadline {
            let forgotten = try await call("forget unregistered proplets") {
                try await self.store.forgetUnregisteredProplets(seenBefore: deadline)
            }
            for id in forgotten {
                metrics.removeProplet(id: id)
                intervals.withLock { $0[id] = nil }
                logger.info("unregistered proplet forgotten", metadata: ["proplet.id": "\(id)"])
            }
            let losses = try await call("mark silent proplets lost") {
                try await self.store.markSilentPropletsLost(seenBefore: deadline, at: now)
            }
            for loss in losses { record(loss) }
            lost = forgotten + losses.map(\.proplet.id)
        }
        let live = try await call("list live proplets") { try await self.store.liveProplets() }
        for proplet in live {
            let threshold = now.adding(seconds: -missedHeartbeatSeconds(proplet.id))
            guard max(proplet.lastSeen, startedAt) < threshold else { continue }
            let update = try await call("mark proplet offline") {
                try await self.store.markPropletOffline(id: proplet.id, seenBefore: threshold, at: now)
            }
            guard let update else { continue }
            metrics.setPropletAlive(id: proplet.id, alive: false)
            logger.warning(
                "proplet not alive; its tasks keep their state until the timeout",
                metadata: ["proplet.id": "\(update.proplet.id)", "reason": "missed heartbeats"]
            )
        }
        metrics.removeStaleTaskGauges()
        return lost
    }

    /// Silence after which a proplet has missed heartbeats: 2.5 observed intervals, at least 3 s, at
    /// most the timeout (the timeout until an interval has been observed).
    func missedHeartbeatSeconds(_ id: String) -> Double {
        let interval = intervals.withLock { $0[id]?.seconds } ?? Double(timeoutSeconds)
        return min(Double(timeoutSeconds), max(3, 2.5 * interval))
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
            intervals.withLock { $0[id] = nil }
            logger.info("proplet deleted", metadata: ["proplet.id": "\(id)"])
        case .notFound:
            throw .notFound("proplet \(id) not found")
        case .busy(let count):
            throw .conflict("proplet \(id) is running \(count) task(s); stop them before deleting it")
        }
    }

    private func record(_ loss: PropletLoss) {
        metrics.setPropletAlive(id: loss.proplet.id, alive: false)
        logger.warning(
            "proplet lost: no heartbeat within the timeout",
            metadata: ["proplet.id": "\(loss.proplet.id)", "timeout": "\(timeoutSeconds)"]
        )
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
