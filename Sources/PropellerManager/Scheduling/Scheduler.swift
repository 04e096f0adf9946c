import Logging
import PropellerCore
import Synchronization

/// Chooses the proplet a task starts on: the requested one, or the next live proplet round-robin.
///
/// The choice is a hint: the store's `startTask` checks atomically that the proplet is still alive
/// when the task starts, and the task service asks again when a chosen proplet died meanwhile.
public final class Scheduler: Sendable {
    let store: any Store
    let logger: Logger
    private let counter = Mutex<Int>(0)

    /// A scheduler choosing among the proplets `store` knows.
    public init(store: any Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// The proplet to start a task on. `requested`: that proplet (404 when unknown, 503 when not
    /// alive); otherwise the next live proplet in id order (503 when there is none).
    public func choose(requested: String?) async throws(ManagerError) -> Proplet {
        if let requested {
            guard
                let proplet = try await storeCall(
                    "read proplet",
                    logger: logger,
                    { try await store.proplet(id: requested) }
                )
            else { throw .notFound("proplet \(requested) not found") }
            guard proplet.alive else { throw .unavailable("proplet \(requested) is not alive") }
            guard proplet.metadata != nil else {
                throw .unavailable("proplet \(requested) has not registered yet; retry once it has")
            }
            return proplet
        }
        // Only registered proplets are schedulable (SPEC §2): a heartbeat alone does not make one.
        let alive = try await storeCall("list live proplets", logger: logger) { try await store.liveProplets() }
            .filter { $0.metadata != nil }
        guard !alive.isEmpty else {
            throw .unavailable("no live proplet to run the task; start a proplet and retry")
        }
        let index = counter.withLock { counter in
            defer { counter &+= 1 }
            return counter
        }
        return alive[Int(UInt(bitPattern: index) % UInt(alive.count))]
    }
}
