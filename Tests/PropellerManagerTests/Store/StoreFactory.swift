import Foundation
import Logging
import PropellerManager
import Testing

/// Makes a fresh, empty store of one kind for the shared store suite.
struct StoreFactory: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable (_ directory: URL) throws -> any Store

    var testDescription: String { name }

    /// Every store the suite runs against: the actor, SQLite on a real file, SQLite in memory.
    static let all: [StoreFactory] = [
        StoreFactory(name: "in-memory actor") { _ in InMemoryStore() },
        StoreFactory(name: "SQLite file") { directory in
            try SQLiteStore(path: directory.appendingPathComponent("store.db").path, logger: .quiet)
        },
        StoreFactory(name: "SQLite in memory") { _ in try SQLiteStore.inMemory(logger: .quiet) },
    ]
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
        try await body(try factory.make(directory))
    }
}
