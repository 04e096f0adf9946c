import Foundation
import Logging
import PropellerManager
import PropellerTestSupport
import Testing

/// Makes a fresh, empty store of one kind for the shared store suite and keeps it open while a body
/// runs (a PostgreSQL store needs its server and connection pool for exactly that long).
struct StoreFactory: Sendable, CustomTestStringConvertible {
    let name: String
    let open: @Sendable (_ directory: URL, _ body: (any Store) async throws -> Void) async throws -> Void

    var testDescription: String { name }

    /// A store that needs no scope: made by `make`, used, released.
    init(name: String, make: @escaping @Sendable (_ directory: URL) throws -> any Store) {
        self.name = name
        self.open = { directory, body in try await body(try make(directory)) }
    }

    init(
        name: String,
        open: @escaping @Sendable (_ directory: URL, _ body: (any Store) async throws -> Void) async throws -> Void
    ) {
        self.name = name
        self.open = open
    }

    /// Every store the suite runs against: the actor, SQLite on a real file, SQLite in memory, and
    /// PostgreSQL (a real server per test, started from Debian's binaries; the case is skipped with the
    /// reason where they are not installed).
    static let all: [StoreFactory] = [
        StoreFactory(name: "in-memory actor") { _ in InMemoryStore() },
        StoreFactory(name: "SQLite file") { directory in
            try SQLiteStore(path: directory.appendingPathComponent("store.db").path, logger: .quiet)
        },
        StoreFactory(name: "SQLite in memory") { _ in try SQLiteStore.inMemory(logger: .quiet) },
        .postgres,
    ]

    /// PostgreSQL on a fresh server.
    static let postgres = StoreFactory(name: "PostgreSQL") { _, body in
        try await withPostgresStore { store, _ in try await body(store) }
    }
}

/// Runs `body` with a `PostgresStore` on a fresh test server (and the server, to stop or restart it);
/// cancels (skips) the current test or test case when the PostgreSQL binaries are not installed.
func withPostgresStore<T>(
    operationTimeout: Duration = .seconds(5),
    _ body: (PostgresStore, PostgresServer) async throws -> T
) async throws -> T {
    if let reason = PostgresInstallation.missingReason { try Test.cancel(Comment(rawValue: reason)) }
    return try await withPostgres { server in
        let url = try #require(DatabaseURL(server.url))
        return try await PostgresStore.withStore(url: url, logger: .quiet, operationTimeout: operationTimeout) {
            store in
            try await body(store, server)
        }
    }
}

extension Logger {
    /// A logger that drops everything (tests assert on behaviour, not on log lines).
    static let quiet = Logger(label: "store-tests") { _ in SwiftLogNoOpLogHandler() }
}

/// Runs `body` with a temporary directory that is removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("propeller-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// Runs `body` with a fresh store made by `factory` (its files live in a temporary directory).
func withStore<T>(_ factory: StoreFactory, _ body: (any Store) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { directory in
        var result: T?
        try await factory.open(directory) { store in result = try await body(store) }
        guard let result else { throw CancellationError() }
        return result
    }
}
