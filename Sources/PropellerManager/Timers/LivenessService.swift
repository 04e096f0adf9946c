import Logging
import ServiceLifecycle

/// Sweeps the proplet registry at a fixed interval (`MANAGER_LIVENESS_CHECK_INTERVAL`, default 1 s) on
/// the given clock; stops on graceful shutdown.
public struct LivenessService: Service {
    let registry: PropletRegistry
    let interval: Duration
    let clock: any Clock<Duration>
    let logger: Logger

    /// Sweeps `registry` every `interval` of `clock` (a manual clock in tests).
    public init(
        registry: PropletRegistry,
        interval: Duration,
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger
    ) {
        self.registry = registry
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    /// Sweeps until cancelled or gracefully shut down.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await clock.sleep(for: interval)
                } catch {
                    return
                }
                do {
                    try await registry.sweep()
                } catch {
                    logger.error("liveness sweep failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
