import Logging
import ServiceLifecycle

/// Applies the retention policy (per-series sample cap and maximum age) at a fixed interval.
public struct RetentionService: Service {
    let store: any Store
    let policy: RetentionPolicy
    let interval: Duration
    let time: any TimeSource
    let logger: Logger

    /// Applies `policy` to `store` at start and then every `interval`.
    public init(store: any Store, policy: RetentionPolicy, interval: Duration, time: any TimeSource, logger: Logger) {
        self.store = store
        self.policy = policy
        self.interval = interval
        self.time = time
        self.logger = logger
    }

    /// Applies retention until cancelled or gracefully shut down.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let removed = try await store.applyRetention(policy, now: time.now())
                    if removed > 0 { logger.info("retention removed samples", metadata: ["count": "\(removed)"]) }
                } catch {
                    logger.error("retention failed", metadata: ["error": "\(error)"])
                }
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
            }
        }
    }
}
