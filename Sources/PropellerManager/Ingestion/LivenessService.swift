import Logging
import ServiceLifecycle

/// Sweeps the proplet registry at a fixed interval (`MANAGER_LIVENESS_CHECK_INTERVAL`, default 1 s)
/// and applies retention at its own interval; stops on graceful shutdown.
public struct LivenessService: Service {
    let registry: PropletRegistry
    let interval: Duration
    let logger: Logger

    /// Sweeps `registry` every `interval`.
    public init(registry: PropletRegistry, interval: Duration, logger: Logger) {
        self.registry = registry
        self.interval = interval
        self.logger = logger
    }

    /// Sweeps until cancelled or gracefully shut down.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
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
