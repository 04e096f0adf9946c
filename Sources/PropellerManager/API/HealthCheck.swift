import GRDB
import PropellerCore
import PropellerMQTT

/// What `GET /health` and `GET /health/ready` report (SPEC §4): whether the MQTT client is connected
/// and whether the store accepts writes.
///
/// The MQTT state comes from `MQTTClient.isConnected`; any other `PubSub` (the in-memory one of unit
/// tests) counts as connected. The store check opens and rolls back a write transaction on SQLite (so a
/// read-only or locked file is reported), and is a one-row read on the other stores.
public struct HealthCheck: Sendable {
    let store: any Store
    let pubsub: any PubSub

    /// Checks `store` and `pubsub`.
    public init(store: any Store, pubsub: any PubSub) {
        self.store = store
        self.pubsub = pubsub
    }

    /// The outcome of one check.
    public struct Report: Sendable, Equatable {
        /// Whether the broker has accepted the current connection.
        public var mqttConnected: Bool
        /// nil when the store is writable, else what failed.
        public var storageError: String?

        /// Ready: connected and writable.
        public var isReady: Bool { mqttConnected && storageError == nil }
    }

    /// Runs both checks.
    public func run() async -> Report {
        let connected = (pubsub as? MQTTClient)?.isConnected ?? true
        var storageError: String?
        do {
            if let sqlite = store as? SQLiteStore {
                try await sqlite.checkWritable()
            } else {
                _ = try await store.proplets(page: Page(offset: 0, limit: 1))
            }
        } catch {
            storageError = "\(error)"
        }
        return Report(mqttConnected: connected, storageError: storageError)
    }
}

extension SQLiteStore {
    /// Runs a write statement that changes nothing on the main database file: it still takes the write
    /// lock, so it fails when the file cannot be written (read-only, disk gone, locked past the busy
    /// timeout, closed store).
    func checkWritable() async throws {
        try await write("health check") { db in
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE 0")
        }
    }
}
