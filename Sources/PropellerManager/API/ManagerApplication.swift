import Hummingbird
import Logging
import NIOCore
import PropellerCore
import PropellerMQTT
import ServiceLifecycle
import Synchronization

/// The parts of a running manager, wired from one configuration, one store and one PubSub client.
/// Tests build it directly to drive ingestion and liveness without HTTP.
public struct ManagerComponents: Sendable {
    /// The configuration everything was built from.
    public let configuration: ManagerConfiguration
    /// This manager's Prometheus registry and series.
    public let metrics: ManagerMetrics
    /// The store everything reads and changes state through.
    public let store: any Store
    /// Chooses the proplet a task starts on.
    public let scheduler: Scheduler
    /// Task operations of the API and proplets' results.
    public let tasks: TaskService
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

    /// The manager's logger.
    public let logger: Logger

    /// Wires every part. `time` is the wall clock used for `last_seen`, task times and liveness; `clock`
    /// paces the liveness and retention timers.
    public init(
        configuration: ManagerConfiguration,
        store: any Store,
        pubsub: any PubSub,
        time: any TimeSource = SystemTimeSource(),
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger,
        onSubscribed: @escaping @Sendable () async -> Void = {}
    ) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        metrics = ManagerMetrics()
        scheduler = Scheduler(store: store, logger: logger)
        tasks = TaskService(
            store: store,
            scheduler: scheduler,
            pubsub: pubsub,
            topics: configuration.topics,
            metrics: metrics,
            time: time,
            logger: logger
        )
        registry = PropletRegistry(
            store: store,
            metrics: metrics,
            time: time,
            timeoutSeconds: configuration.propletTimeoutSeconds,
            logger: logger
        )
        feed = TaskSampleFeed()
        health = HealthCheck(store: store, pubsub: pubsub)
        var ingestion = IngestionService(
            tasks: tasks,
            registry: registry,
            store: store,
            metrics: metrics,
            pubsub: pubsub,
            topics: configuration.topics,
            batchSize: configuration.ingestBatchSize,
            flushInterval: .milliseconds(configuration.ingestFlushMilliseconds),
            clockSkewSeconds: configuration.clockSkewSeconds,
            managerID: configuration.effectiveMQTTClientID,
            logger: logger,
            feed: feed,
            onSubscribed: onSubscribed
        )
        ingestion.sharedGroup = configuration.sharedSubscriptionGroup
        self.ingestion = ingestion
        liveness = LivenessService(
            registry: registry,
            interval: .seconds(configuration.livenessCheckIntervalSeconds),
            clock: clock,
            logger: logger
        )
        retention = RetentionService(
            store: store,
            policy: configuration.retention,
            interval: .seconds(configuration.retentionIntervalSeconds),
            clock: clock,
            time: time,
            logger: logger
        )
    }

    /// The REST API of SPEC §4 with JSON errors, request logging and HTTP metrics.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
        router.add(middleware: RequestLogMiddleware(logger: logger))
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        router.add(middleware: BearerAuthMiddleware(tokens: configuration.security.apiTokens))
        TaskRoutes(tasks: tasks, maxBodyBytes: configuration.maxBodyBytes).register(on: router)
        TaskStreamRoute(tasks: tasks, feed: feed).register(on: router)
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
/// - Throws: `ManagerServerError` when the TLS certificate or key cannot be loaded.
public func buildApplication(
    configuration: ManagerConfiguration,
    store: any Store,
    pubsub: any PubSub,
    time: any TimeSource = SystemTimeSource(),
    logger: Logger,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in },
    onSubscribed: @escaping @Sendable () async -> Void = {}
) throws -> some ApplicationProtocol {
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
        server: try ManagerServer.builder(configuration.security),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.httpHost, port: configuration.httpPort),
            serverName: "propeller-manager"
        ),
        services: [components.ingestion, components.liveness, components.retention, components.feed],
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.httpPort
            logger.info(
                "manager listening",
                metadata: [
                    "http.host": "\(configuration.httpHost)", "http.port": "\(port)",
                    "http.scheme": "\(configuration.security.usesTLS ? "https" : "http")",
                    "api.tokens": "\(configuration.security.apiTokens)",
                ]
            )
            await onListening(port)
        },
        logger: logger
    )
}

/// The whole manager process, wired from its configuration: the store it names (SQLite file or
/// memory), the MQTT client (a persistent session unless managers share the work), the HTTP server and
/// the ingestion, liveness and retention services in one `ServiceGroup` with graceful shutdown on
/// SIGTERM and SIGINT.
/// `propeller manager` only parses the environment and calls `run`.
public enum ManagerApplication {
    /// The store a configuration names.
    public static func makeStore(_ configuration: ManagerConfiguration, logger: Logger) throws -> any Store {
        switch configuration.storage {
        case .sqlite: try SQLiteStore(path: configuration.databasePath, logger: logger)
        case .memory: InMemoryStore()
        case .postgres:
            // Its connection pool runs for a scope: `run` opens it with `PostgresStore.withStore`.
            throw StoreError.database(
                "a PostgreSQL store is opened by ManagerApplication.run (PostgresStore.withStore)"
            )
        }
    }

    /// The manager's MQTT client: stable client id and a persistent session, so the broker queues what
    /// proplets publish while the manager is away — except for managers sharing the work
    /// (`sharedSubscriptionGroup`, PostgreSQL): their session is clean. Mosquitto goes on assigning a
    /// shared subscription's messages round-robin to a *disconnected* persistent session and queues them
    /// there, so a crashed manager would keep taking its share (heartbeats, registrations, samples,
    /// results) away from the managers still running until it came back. With a clean session the broker
    /// drops the dead manager from the group at once; what it had received but not committed is never
    /// acknowledged, so the proplets resend it to the others (SPEC §2 "Delivery").
    public static func makeMQTTClient(_ configuration: ManagerConfiguration, logger: Logger) throws -> MQTTClient {
        var mqtt = MQTTConfiguration(
            url: configuration.mqttURL,
            clientID: configuration.effectiveMQTTClientID,
            username: configuration.mqttUsername,
            password: configuration.mqttPassword
        )
        mqtt.caFile = configuration.mqttCAFile
        mqtt.certificateFile = configuration.mqttCertificateFile
        mqtt.keyFile = configuration.mqttKeyFile
        mqtt.cleanSession = configuration.sharedSubscriptionGroup != nil
        return try MQTTClient(configuration: mqtt, logger: logger)
    }

    /// Runs a manager until SIGTERM or SIGINT: then the server stops accepting, buffered samples are
    /// written, and the MQTT client disconnects last.
    ///
    /// The MQTT connection starts only once ingestion has subscribed: with a persistent session the broker
    /// delivers what it queued right after CONNACK, and those messages need a subscriber. The connection
    /// keeps retrying in the background, so the API works before the broker is reachable.
    public static func run(
        configuration: ManagerConfiguration,
        logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        guard configuration.storage == .postgres else {
            let store = try makeStore(configuration, logger: logger)
            return try await run(configuration: configuration, store: store, logger: logger, onListening: onListening)
        }
        guard let url = configuration.databaseURL else {
            throw StoreError.database("MANAGER_DATABASE_URL must be set with MANAGER_STORAGE=postgres")
        }
        let started = Mutex(false)
        do {
            try await PostgresStore.withStore(
                url: url,
                logger: logger,
                operationTimeout: .seconds(configuration.databaseTimeoutSeconds)
            ) { store in
                started.withLock { $0 = true }
                try await run(configuration: configuration, store: store, logger: logger, onListening: onListening)
            }
        } catch let error as StoreError where !started.withLock({ $0 }) {
            // A start-up failure of the database names the variable to fix.
            throw StoreError.database("MANAGER_DATABASE_URL=\(url): \(error)")
        }
    }

    /// Runs a manager on an open `store` until SIGTERM or SIGINT.
    static func run(
        configuration: ManagerConfiguration,
        store: any Store,
        logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let client = try makeMQTTClient(configuration, logger: logger)
        logger.info(
            "manager starting",
            metadata: [
                "mqtt.url": "\(configuration.mqttURL)", "storage": "\(configuration.storage.rawValue)",
                "db": "\(database(configuration))",
            ]
        )
        let application = try buildApplication(
            configuration: configuration,
            store: store,
            pubsub: client,
            logger: logger,
            onListening: onListening,
            onSubscribed: {
                do {
                    try await client.connect(waitForConnection: false)
                } catch {
                    logger.error("cannot start the MQTT connection", metadata: ["error": "\(error)"])
                }
            }
        )
        // The client first: services shut down in reverse order, so it disconnects after ingestion has
        // written what it buffered.
        let group = ServiceGroup(
            configuration: .init(
                services: [client, application],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            await client.disconnect()
            throw error
        }
        logger.info("manager stopped")
    }

    /// Where the data lives, for the start-up log line (a PostgreSQL URL with its password masked).
    static func database(_ configuration: ManagerConfiguration) -> String {
        switch configuration.storage {
        case .sqlite: configuration.databasePath
        case .memory: "-"
        case .postgres: configuration.databaseURL.map { "\($0)" } ?? "-"
        }
    }
}
