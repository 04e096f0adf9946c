import Logging
import NIOSSL
import PostgresNIO
import PropellerCore
import Synchronization

/// The `Store` for several managers: one PostgreSQL database (`MANAGER_STORAGE=postgres`,
/// `MANAGER_DATABASE_URL`) through postgres-nio's connection pool.
///
/// - The schema is built by append-only named migrations (`PostgresStore.migrations`) run under an
///   advisory lock, so managers starting together migrate once.
/// - Samples are typed columns; the primary key (`task_id`, `timestamp_us`) is the index that pages,
///   ranges, aggregates and deduplicates (`ON CONFLICT DO NOTHING`). Aggregates and nearest-rank
///   percentiles (`percentile_disc`) are computed in SQL.
/// - **Losing the database is survived.** A sample write waits and retries (100 ms, growing to 2 s)
///   until the database is back: nothing handed to the store is dropped, and the caller learns of the
///   commit only once it happened. Reads and API writes retry for at most `operationTimeout` and then
///   fail with `StoreError.unavailable` (the API's 503). An API write whose COMMIT was sent when the
///   connection broke is never repeated (it may have committed): that too is `unavailable`.
///   `health()` says meanwhile that the database is unreachable.
/// - Open it with `PostgresStore.withStore(url:…)`, which runs the pool for the duration of the body.
public final class PostgresStore: Store {
    let client: PostgresClient
    let logger: Logger
    /// How long reads and API writes wait for an unreachable database.
    let operationTimeout: Duration
    /// The last connection failure, or nil while the database answers.
    private let outage = Mutex<String?>(nil)

    private init(client: PostgresClient, logger: Logger, operationTimeout: Duration) {
        self.client = client
        self.logger = logger
        self.operationTimeout = operationTimeout
    }

    /// Connects to `url`, migrates the schema, runs `body` with the store and closes every connection
    /// afterwards (also when `body` throws).
    ///
    /// Start-up waits up to `startupTimeout` (default 30 s) for the database to accept connections, so a
    /// manager may start before its database; then it throws `StoreError.unavailable` naming the URL
    /// (password masked) and the last error. `operationTimeout` (default 5 s) is how long a read or an
    /// API write waits for an unreachable database before it fails.
    public static func withStore<T>(
        url: DatabaseURL,
        logger: Logger,
        operationTimeout: Duration = .seconds(5),
        startupTimeout: Duration = .seconds(30),
        maximumConnections: Int = 16,
        _ body: (PostgresStore) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(
            configuration: configuration(url, maximumConnections: maximumConnections),
            backgroundLogger: logger
        )
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let store = PostgresStore(client: client, logger: logger, operationTimeout: operationTimeout)
            try await store.migrate(url: url, connection: try connectionConfiguration(url), timeout: startupTimeout)
            logger.info("store opened", metadata: ["store.url": "\(url)"])
            return try await body(store)
        }
    }

    /// The TLS settings of `url`'s `sslmode`: nil for `disable`, else the configuration and whether TLS
    /// is required. `prefer` and `require` do not check the certificate (libpq's meaning).
    static func tlsSettings(_ url: DatabaseURL) -> (configuration: TLSConfiguration, required: Bool)? {
        var unchecked = TLSConfiguration.makeClientConfiguration()
        unchecked.certificateVerification = .none
        switch url.tls {
        case .disable: return nil
        case .prefer: return (unchecked, false)
        case .require: return (unchecked, true)
        case .verifyFull: return (.makeClientConfiguration(), true)
        }
    }

    static func configuration(_ url: DatabaseURL, maximumConnections: Int) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch tlsSettings(url) {
            case nil: .disable
            case let (configuration, required)?: required ? .require(configuration) : .prefer(configuration)
            }
        var configuration = PostgresClient.Configuration(
            host: url.host,
            port: url.port,
            username: url.user,
            password: url.password,
            database: url.database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.maximumConnections = max(2, maximumConnections)
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
        configuration.options.additionalStartupParameters = [("application_name", "propeller-manager")]
        return configuration
    }

    /// The settings of a single connection to `url` (the one migrations run on, outside the pool, so
    /// that a wrong password or database name is reported at once instead of being retried).
    static func connectionConfiguration(_ url: DatabaseURL) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        do {
            tls =
                switch tlsSettings(url) {
                case nil: .disable
                case let (configuration, required)?:
                    required
                        ? .require(try NIOSSLContext(configuration: configuration))
                        : .prefer(try NIOSSLContext(configuration: configuration))
                }
        } catch {
            throw StoreError.database("cannot set up TLS for \(url): \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            host: url.host,
            port: url.port,
            username: url.user,
            password: url.password,
            database: url.database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    // MARK: Health

    /// nil while the database answers and accepts writes; otherwise why not (unreachable, or a read-only
    /// server such as a standby). Asks the server with a 2 s limit, so it notices an outage while
    /// nothing else is being written.
    public func health() async -> String? {
        let logger = self.logger
        do {
            let readOnly = try await attempt(deadline: .now + .seconds(2)) { connection in
                let rows = try await connection.query(
                    "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'",
                    logger: logger
                )
                var readOnly = false
                for try await value in rows.decode(Bool.self) { readOnly = value }
                return readOnly
            }
            _ = outageEnded()
            return readOnly ? "database is read-only (a standby or default_transaction_read_only)" : nil
        } catch {
            let reason = Self.reason(error)
            _ = outageStarted(reason)
            return "database unreachable: \(reason)"
        }
    }

    /// The last connection failure seen by any operation, without asking the database; nil when the
    /// last operation succeeded.
    public var lastFailure: String? { outage.withLock { $0 } }

    /// Records a connection failure; true when it starts an outage (the previous operation succeeded).
    func outageStarted(_ reason: String) -> Bool {
        outage.withLock { outage in
            defer { outage = reason }
            return outage == nil
        }
    }

    /// Records a success; true when it ends an outage.
    func outageEnded() -> Bool {
        outage.withLock { outage in
            defer { outage = nil }
            return outage != nil
        }
    }
}
