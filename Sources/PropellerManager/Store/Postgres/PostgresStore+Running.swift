import Logging
import PostgresNIO
import Synchronization
import _ConnectionPoolModule

/// How an operation reacts when the database cannot be reached.
enum PostgresRetry: Sendable {
    /// Retry (backing off) until the database is reachable again, however long that takes; also after a
    /// connection broke during COMMIT. Only for idempotent writes (samples: `ON CONFLICT DO NOTHING`).
    case untilCommitted
    /// Retry for at most the store's `operationTimeout`; never repeat a transaction whose COMMIT was sent.
    case bounded
}

extension PostgresStore {
    /// Runs `body` on a pooled connection, outside a transaction (one statement, or a read whose
    /// statements need no common snapshot).
    func read<T: Sendable>(
        _ operation: String,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await run(operation, transaction: false, retry: .bounded, body)
    }

    /// Runs `body` in one transaction (BEGIN … COMMIT; rolled back when it throws).
    func write<T: Sendable>(
        _ operation: String,
        retry: PostgresRetry = .bounded,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await run(operation, transaction: true, retry: retry, body)
    }

    /// Runs `body` on a pooled connection outside an explicit transaction: for one statement that is
    /// atomic by itself, it saves the BEGIN and COMMIT round trips (two of three for a sample batch).
    func statement<T: Sendable>(
        _ operation: String,
        retry: PostgresRetry,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await run(operation, transaction: false, retry: retry, body)
    }

    private func run<T: Sendable>(
        _ operation: String,
        transaction: Bool,
        retry: PostgresRetry,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let deadline: ContinuousClock.Instant? = retry == .untilCommitted ? nil : .now + operationTimeout
        let logger = self.logger
        var delay = Duration.milliseconds(100)
        while true {
            // One try never waits longer than this, even when the operation as a whole may wait for
            // ever (`untilCommitted`): a lease or a query stuck after a server restart is given up and
            // tried again on a fresh connection (samples are idempotent, so a repeat is harmless).
            let attemptDeadline = deadline ?? .now + max(operationTimeout, .seconds(10))
            do {
                let result = try await attempt(deadline: attemptDeadline) { connection in
                    transaction
                        ? try await Self.transaction(connection, logger: logger, body) : try await body(connection)
                }
                recovered(operation)
                return result
            } catch {
                let failure = Self.classify(error)
                switch failure {
                case .store(let error):
                    throw error
                case .failed(let reason):
                    logger.error(
                        "store operation failed",
                        metadata: ["store.operation": "\(operation)", "error": "\(reason)"]
                    )
                    throw StoreError.database("\(operation) failed: \(reason)")
                case .uncertain(let reason) where retry == .bounded:
                    lost(operation, reason)
                    throw StoreError.unavailable(
                        "\(operation): the database connection broke during COMMIT (\(reason)); the outcome is unknown"
                    )
                case .notCommitted(let reason), .uncertain(let reason):
                    lost(operation, reason)
                    if Task.isCancelled { throw StoreError.unavailable("\(operation) cancelled: \(reason)") }
                    if let deadline, ContinuousClock.now + delay >= deadline {
                        throw StoreError.unavailable("\(operation) failed: database unreachable (\(reason))")
                    }
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(2))
                }
            }
        }
    }

    /// One try of `body` on a pooled connection, given up at `deadline` (nil: no limit). The try runs
    /// in its own task and is only cancelled when the deadline passes: a task group would wait for a
    /// child that ignores cancellation (a lease or a query stuck on a dead connection), so the caller
    /// is answered at the deadline whatever the abandoned try does.
    func attempt<T: Sendable>(
        deadline: ContinuousClock.Instant?,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let client = self.client
        guard let deadline else { return try await client.withConnection { try await body($0) } }
        let work = Task { try await client.withConnection { try await body($0) } }
        let outcome = AttemptOutcome<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                outcome.install(continuation)
                let timer = Task {
                    try? await Task.sleep(until: deadline)
                    if outcome.finish(.failure(DeadlinePassed())) { work.cancel() }
                }
                Task {
                    do { outcome.finish(.success(try await work.value)) } catch { outcome.finish(.failure(error)) }
                    // The answer is in: the timer (up to 10 s of sleep per statement) is not needed any more.
                    timer.cancel()
                }
            }
        } onCancel: {
            work.cancel()
        }
    }

    /// BEGIN, `body`, COMMIT; ROLLBACK when `body` throws. A failure of the COMMIT itself is wrapped in
    /// `CommitFailed`, because only then may the transaction have committed.
    static func transaction<T: Sendable>(
        _ connection: PostgresConnection,
        logger: Logger,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await connection.query("BEGIN", logger: logger)
        let result: T
        do {
            result = try await body(connection)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
        do {
            try await connection.query("COMMIT", logger: logger)
        } catch {
            throw CommitFailed(underlying: error)
        }
        return result
    }

    private func lost(_ operation: String, _ reason: String) {
        let first = outageStarted(reason)
        if first {
            logger.warning(
                "database unreachable; retrying",
                metadata: ["store.operation": "\(operation)", "error": "\(reason)"]
            )
        }
    }

    private func recovered(_ operation: String) {
        if outageEnded() { logger.notice("database reachable again", metadata: ["store.operation": "\(operation)"]) }
    }

    // MARK: Classifying failures

    enum Failure {
        /// A client situation (not found, conflict): passed on as it is.
        case store(StoreError)
        /// The database could not be reached, or ended the transaction without committing it: safe to retry.
        case notCommitted(String)
        /// The connection broke while COMMIT was under way: the transaction may or may not have committed.
        case uncertain(String)
        /// Anything else (a bad statement, a constraint): retrying would fail the same way.
        case failed(String)
    }

    /// SQLSTATEs after which the transaction certainly did not commit and a retry may succeed:
    /// connection exceptions (class 08), server shutdown or start-up (57P01…57P03), too many
    /// connections (53300), serialization failures and deadlocks (40001, 40P01), and a read-only server
    /// (25006: a standby, or a primary being failed over), a lock wait or statement ended by a timeout
    /// (55P03, 57014: only migrations set them, and retry until their start-up deadline).
    static let retryableStates: Set<String> = [
        "57P01", "57P02", "57P03", "53300", "40001", "40P01", "25006", "55P03", "57014",
    ]

    static func classify(_ error: any Error) -> Failure {
        if let error = error as? StoreError { return .store(error) }
        if error is DeadlinePassed { return .notCommitted("no answer in time") }
        if let error = error as? CommitFailed {
            switch classify(error.underlying) {
            case .notCommitted(let reason):
                return isConnectionLoss(error.underlying) ? .uncertain(reason) : .notCommitted(reason)
            case let other: return other
            }
        }
        if error is ConnectionPoolError { return .notCommitted(reason(error)) }
        if let error = error as? PSQLError {
            if isConnectionLoss(error) { return .notCommitted(reason(error)) }
            if let state = error.serverInfo?[.sqlState], state.hasPrefix("08") || retryableStates.contains(state) {
                return .notCommitted(reason(error))
            }
        }
        return .failed(reason(error))
    }

    /// Whether `error` is the connection itself failing (refused, closed, reset) rather than a statement.
    static func isConnectionLoss(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return error is ConnectionPoolError }
        switch error.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection: return true
        default: return false
        }
    }

    /// A one-line reason: the server's SQLSTATE and message, or the client's error code and cause.
    /// (postgres-nio hides details from `description` on purpose; these fields are safe to log.)
    static func reason(_ error: any Error) -> String {
        if let error = error as? CommitFailed { return reason(error.underlying) }
        if let error = error as? PSQLError {
            if let info = error.serverInfo {
                let state = info[.sqlState] ?? "?"
                return "\(info[.message] ?? "server error") (SQLSTATE \(state))"
            }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        if let error = error as? ConnectionPoolError {
            return error == .connectionCreationCircuitBreakerTripped
                ? "cannot connect to the database" : "connection pool: \(error)"
        }
        return "\(error)"
    }
}

/// The COMMIT of a transaction failed; `underlying` says how.
struct CommitFailed: Error {
    var underlying: any Error
}

/// An attempt ran past its deadline.
struct DeadlinePassed: Error {}

/// The first of an attempt's result and its deadline, delivered once to the waiting caller.
final class AttemptOutcome<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var done = false
    }
    private let state = Mutex(State())

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { value in
            if let early = value.early {
                value.early = nil
                return early
            }
            value.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// Delivers `result` unless an earlier one was; returns whether this one was delivered.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let continuation: CheckedContinuation<T, any Error>?? = state.withLock { value in
            guard !value.done else { return .none }
            value.done = true
            guard let continuation = value.continuation else {
                value.early = result
                return .some(nil)
            }
            value.continuation = nil
            return .some(continuation)
        }
        guard case .some(let waiting) = continuation else { return false }
        waiting?.resume(with: result)
        return true
    }
}
