import Logging
import ServiceLifecycle

/// Applies the retention policy (per-series sample cap and maximum age) at a fixed interval of the given
/// clock; the age limit counts from the time source's wall-clock time.
public struct RetentionService: Service {
    let store: any Store
    let policy: RetentionPolicy
    let interval: Duration
    let clock: any Clock<Duration>
    let time: any TimeSource
    let logger: Logger

    /// Applies `policy` to `store` at start and then every `interval` of `clock` (a manual clock in tests).
    public init(
        store: any Store,
        policy: RetentionPolicy,
        interval: Duration,
        clock: any Clock<Duration> = ContinuousClock(),
        time: any TimeSource,
        logger: Logger
    ) {
        self.store = store
        self.policy = policy
        self.interval = interval
        self.clock = clock
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
                    try await clock.sleep(for: interval)
                } catch {
                    return
                }
            }
        }
    }
}
