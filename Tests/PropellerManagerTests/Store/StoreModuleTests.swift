import Foundation
import GRDB
import PropellerCore
import Testing

@testable import PropellerManager

@Suite("Store: modules once per digest (every store)")
struct StoreModuleTests {
    typealias F = StoreFixtures

    static func task(_ id: String, module bytes: Data, created: Double = 0) -> WasmTask {
        var task = F.task(id, created: created)
        task.module = .file(digest: ModuleDigest.of(bytes), sizeBytes: bytes.count)
        return task
    }

    @Test(
        "one module uploaded twice is stored once and deleted with the last task that holds it",
        arguments: StoreFactory.all
    )
    func storedOnce(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            let bytes = Data((0..<100_000).map { UInt8($0 % 251) })
            let other = Data("another module".utf8)
            try await store.createTask(Self.task("t-1", module: bytes), moduleBytes: bytes)
            try await store.createTask(Self.task("t-2", module: bytes, created: 1), moduleBytes: bytes)
            try await store.createTask(Self.task("t-3", module: other, created: 2), moduleBytes: other)
            #expect(try await store.moduleCount() == 2)
            #expect(try await store.moduleBytes(digest: ModuleDigest.of(bytes)) == bytes)
            #expect(
                try await store.task(id: "t-2")?.module == .file(digest: ModuleDigest.of(bytes), sizeBytes: 100_000)
            )
            #expect(try await store.moduleBytes(digest: "sha256:" + String(repeating: "0", count: 64)) == nil)

            // A duplicate id stores neither the task nor its module.
            await #expect(throws: StoreError.self) {
                try await store.createTask(Self.task("t-1", module: Data("x".utf8)), moduleBytes: Data("x".utf8))
            }
            #expect(try await store.moduleCount() == 2)

            #expect(try await store.deleteTask(id: "t-1") == .deleted)
            #expect(try await store.moduleBytes(digest: ModuleDigest.of(bytes)) == bytes, "t-2 still holds it")
            #expect(try await store.deleteTask(id: "t-2") == .deleted)
            #expect(try await store.moduleBytes(digest: ModuleDigest.of(bytes)) == nil)
            #expect(try await store.moduleCount() == 1)
        }
    }

    @Test(
        "an image_url task has no stored module: digest and size are null, source is the URL",
        arguments: StoreFactory.all
    )
    func imageModule(factory: StoreFactory) async throws {
        try await withStore(factory) { store in
            var task = F.task("t-image")
            task.module = .image("registry.example/app:1")
            task.imageURL = "registry.example/app:1"
            try await store.createTask(task)
            #expect(try await store.task(id: "t-image")?.module == .image("registry.example/app:1"))
            #expect(try await store.moduleCount() == 0)
        }
    }

    @Test("migration v5-modules moves each task's base64 file into the modules table, once per digest")
    func migration() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("manager.db").path
            let bytes = Data((0..<5000).map { UInt8($0 % 7) })
            do {
                let queue = try DatabaseQueue(path: path)
                try SQLiteStore.migrator.migrate(queue, upTo: "v2-task-limits")
                try await queue.write { db in
                    for (index, file) in [bytes, bytes, Data("other".utf8)].enumerated() {
                        try db.execute(
                            sql: """
                                INSERT INTO tasks (id, name, file, inputs_json, env_json, cli_args_json, daemon,
                                    profile_json, state, created_at_us, updated_at_us)
                                VALUES (?, 'main', ?, '[]', '{}', '[]', 0, ?, 'pending', ?, ?)
                                """,
                            arguments: [
                                "t-\(index)", file.base64EncodedString(),
                                String(decoding: try JSONEncoder().encode(MonitoringProfile.standard), as: UTF8.self),
                                index, index,
                            ]
                        )
                    }
                    try db.execute(
                        sql: """
                            INSERT INTO tasks (id, name, image_url, inputs_json, env_json, cli_args_json, daemon,
                                profile_json, state, created_at_us, updated_at_us)
                            VALUES ('t-image', 'main', 'host/app:1', '[]', '{}', '[]', 0, ?, 'pending', 9, 9)
                            """,
                        arguments: [
                            String(decoding: try JSONEncoder().encode(MonitoringProfile.standard), as: UTF8.self)
                        ]
                    )
                }
                try queue.close()
            }
            let store = try SQLiteStore(path: path, logger: .quiet)
            #expect(try await store.moduleCount() == 2)
            let tasks = try await store.tasks(state: nil, page: Page()).items
            #expect(
                tasks.map(\.module) == [
                    .file(digest: ModuleDigest.of(bytes), sizeBytes: 5000),
                    .file(digest: ModuleDigest.of(bytes), sizeBytes: 5000),
                    .file(digest: ModuleDigest.of(Data("other".utf8)), sizeBytes: 5),
                    .image("host/app:1"),
                ]
            )
            #expect(try await store.moduleBytes(digest: ModuleDigest.of(bytes)) == bytes)
            try store.close()
            let queue = try DatabaseQueue(path: path)
            let files = try await queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(file) FROM tasks") }
            #expect(files == 0, "the base64 text is gone from the tasks table")
        }
    }
}
