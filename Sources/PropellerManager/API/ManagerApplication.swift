import Hummingbird
import Logging
import NIOCore
import PropellerCore
import PropellerMQTT

/// The parts of a running manager, wired from one configuration, one store and one PubSub client.
/// Tests build it directly to drive ingestion and liveness without HTTP.
public struct ManagerComponents: Sendable {
    /// The configuration everything was built from.
    public let configuration: ManagerConfiguration
    /// This manager's Prometheus registry and series.
    public let metrics: ManagerMetrics
    /// Task state changes and scheduling.
    public let lifecycle: TaskLifecycle
    /// The proplet registry and liveness sweeps.
    public let registry: PropletRegistry
    /// The MQTT ingestion service.
    public let ingestion: IngestionService
    /// The periodic liveness sweep.
    public let liveness: LivenessService
    /// The periodic retention sweep.
    public let retention: RetentionService
    /// Newly stored samples for the live event streams (and the web page).
    public let feed: TaskSampleFeed
    /// The MQTT and store checks of `/health` and `/health/ready`.
    public let health: HealthCheck

    /// Wires every part. `time` is the wall clock used for `last_seen`, task times and liveness.
    public init(
        configuration: ManagerConfiguration,
        store: any Store,
        pubsub: any PubSub,
        time: any TimeSource = SystemTimeSource(),
        logger: Logger,
        onSubscribed: @escaping @Sendable () async -> Void = {}
    ) {
        self.configuration = configuration
        metrics = ManagerMetrics()
        lifecycle = TaskLifecycle(
            store: store,
            pubsub: pubsub,
            topics: configuration.topics,
            lock: AsyncLock(),
            metrics: metrics,
            time: time,
            logger: logger
        )
        registry = PropletRegistry(lifecycle: lifecycle, timeoutSeconds: configuration.propletTimeoutSeconds)
        feed = TaskSampleFeed()
        health = HealthCheck(store: store, pubsub: pubsub)
        ingestion = IngestionService(
            lifecycle: lifecycle,
            registry: registry,
            pubsub: pubsub,
            topics: configuration.topics,
            batchSize: configuration.ingestBatchSize,
            flushInterval: .milliseconds(configuration.ingestFlushMilliseconds),
            logger: logger,
            feed: feed,
            onSubscribed: onSubscribed
        )
        liveness = LivenessService(
            registry: registry,
            interval: .seconds(configuration.livenessCheckIntervalSeconds),
            logger: logger
        )
        retention = RetentionService(
            store: store,
            policy: configuration.retention,
            interval: .seconds(configuration.retentionIntervalSeconds),
            time: time,
            logger: logger
        )
    }

    /// The REST API of SPEC §4 with JSON errors, request logging and HTTP metrics.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
        router.add(middleware: RequestLogMiddleware(logger: lifecycle.logger))
        router.add(middleware: JSONErrorMiddleware(logger: lifecycle.logger))
        TaskRoutes(lifecycle: lifecycle, maxBodyBytes: configuration.maxBodyBytes).register(on: router)
        TaskStreamRoute(lifecycle: lifecycle, feed: feed).register(on: router)
        PropletRoutes(registry: registry).register(on: router)
        SystemRoutes(metrics: metrics, health: health).register(on: router)
        WebPageRoutes().register(on: router)
        return router
    }
}

/// Builds the manager: the HTTP server on `MANAGER_HTTP_HOST:MANAGER_HTTP_PORT` plus the ingestion,
/// liveness and retention services, all in the application's one `ServiceGroup`
/// (`runService()` adds graceful shutdown on SIGTERM/SIGINT).
///
/// - Parameter onListening: called with the bound port once the server listens (useful with port 0).
public func buildApplication(
    configuration: ManagerConfiguration,
    store: any Store,
    pubsub: any PubSub,
    time: any TimeSource = SystemTimeSource(),
    logger: Logger,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in },
    onSubscribed: @escaping @Sendable () async -> Void = {}
) -> some ApplicationProtocol {
    let components = ManagerComponents(
        configuration: configuration,
        store: store,
        pubsub: pubsub,
        time: time,
        logger: logger,
        onSubscribed: onSubscribed
    )
    return Application(
        router: components.router(),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.httpHost, port: configuration.httpPort),
            serverName: "propeller-manager"
        ),
        services: [components.ingestion, components.liveness, components.retention, components.feed],
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.httpPort
            logger.info(
                "manager listening",
                metadata: ["http.host": "\(configuration.httpHost)", "http.port": "\(port)"]
            )
            await onListening(port)
        },
        logger: logger
    )
}
