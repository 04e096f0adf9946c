import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PropellerCore
import PropellerMQTT
import Testing

@testable import PropellerManager

/// One manager wired for a unit test: a fresh store, an in-memory bus and a manual clock.
struct TestManager {
    let store: any Store
    let pubsub: InMemoryPubSub
    let time: ManualTimeSource
    let components: ManagerComponents

    static let epoch = Timestamp(rfc3339: "2025-01-15T10:00:00.000000Z")!

    init(
        store: any Store = InMemoryStore(),
        time: ManualTimeSource = ManualTimeSource(Self.epoch),
        clock: any Clock<Duration> = ContinuousClock(),
        configure: (inout ManagerConfiguration) -> Void = { _ in }
    ) {
        var configuration = ManagerConfiguration()
        configuration.storage = .memory
        configure(&configuration)
        self.store = store
        pubsub = InMemoryPubSub()
        self.time = time
        var logger = Logger(label: "test.manager")
        logger.logLevel = .critical
        components = ManagerComponents(
            configuration: configuration,
            store: store,
            pubsub: pubsub,
            time: time,
            clock: clock,
            logger: logger
        )
    }

    var topics: Topics { components.configuration.topics }

    /// Runs `body` against the router (no sockets).
    func withClient(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: components.router(), logger: components.logger)
        try await app.test(.router) { client in try await body(client) }
    }

    /// Metadata of a registered test proplet (2 cores).
    static let metadata = PropletMetadata(
        hostname: "h",
        os: "linux",
        arch: "x86_64",
        cpuCount: 2,
        totalMemoryBytes: 1 << 30,
        version: "0.1.0",
        wasmRuntime: "wasmkit"
    )

    /// Registers a live proplet directly in the store (with metadata: only registered proplets are
    /// schedulable).
    @discardableResult
    func addProplet(id: String = "proplet-1", alive: Bool = true) async throws -> Proplet {
        let metadata = PropletMetadata(
            hostname: "host-\(id)",
            os: "linux",
            arch: "x86_64",
            cpuCount: 2,
            totalMemoryBytes: 1 << 30,
            version: "0.1.0",
            wasmRuntime: "wasmkit"
        )
        let proplet = Proplet(
            id: id,
            name: "name-\(id)",
            alive: alive,
            lastSeen: time.now(),
            runningTasks: 0,
            metadata: metadata
        )
        return try await store.seed(proplet)
    }
}

/// The two stores the API tests run on.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case memory, sqlite

    var testDescription: String { rawValue }

    func make() throws -> any Store {
        switch self {
        case .memory: InMemoryStore()
        case .sqlite: try SQLiteStore.inMemory(logger: Logger(label: "test.store"))
        }
    }
}

/// A minimal valid task body.
func taskBody(name: String = "add", extra: String = "") -> String {
    #"{"name": "\#(name)", "file": "AGFzbQEAAAA=""# + (extra.isEmpty ? "" : ", " + extra) + "}"
}

extension TestClientProtocol {
    /// Sends a request with a JSON (or other) body.
    @discardableResult
    func send(
        _ uri: String,
        _ method: HTTPRequest.Method,
        body: String? = nil,
        contentType: String? = "application/json"
    ) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let contentType, body != nil { headers[.contentType] = contentType }
        return try await execute(
            uri: uri,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(string: $0) }
        )
    }

    /// Creates a task and returns it.
    func createTask(_ body: String = taskBody()) async throws -> WasmTask {
        let response = try await send("/tasks", .post, body: body)
        guard response.status == .created else {
            throw TestFailure("POST /tasks returned \(response.status): \(String(buffer: response.body))")
        }
        return try WireCoding.decode(WasmTask.self, from: Data(buffer: response.body))
    }
}

extension TestResponse {
    /// The body as a JSON object.
    var json: [String: JSONValue] {
        get throws {
            let value = try WireCoding.decode(JSONValue.self, from: Data(buffer: body))
            guard case .object(let object) = value else { throw TestFailure("not a JSON object: \(value)") }
            return object
        }
    }

    /// The `error` message of an error body.
    var errorMessage: String? {
        guard case .string(let message)? = try? json["error"] else { return nil }
        return message
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
