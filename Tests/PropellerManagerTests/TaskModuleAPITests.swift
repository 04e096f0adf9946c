import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PropellerCore
import Testing

@testable import PropellerManager

/// SPEC §4: tasks carry `module` {digest, size_bytes, source} instead of the module's bytes; the bytes
/// are served by `GET /tasks/{id}/module` and stored once per digest; the start command still carries them.
@Suite("API: modules out of task responses")
struct TaskModuleAPITests {
    /// A distinct module of `size` bytes (not valid Wasm: the manager never parses modules).
    static func module(_ index: Int, size: Int) -> Data {
        var bytes = [UInt8](repeating: 0, count: size)
        for offset in stride(from: 0, to: size, by: 4096) { bytes[offset] = UInt8(truncatingIfNeeded: offset >> 12) }
        bytes[0] = UInt8(index)
        return Data(bytes)
    }

    static func body(_ bytes: Data, name: String = "main") -> String {
        #"{"name": "\#(name)", "file": "\#(bytes.base64EncodedString())"}"#
    }

    @Test("GET /tasks?limit=1000 with ten 15 MiB tasks stays under 1 MiB", arguments: StoreKind.allCases)
    func listWithoutModules(store: StoreKind) async throws {
        let manager = TestManager(store: try store.make()) { $0.maxBodyBytes = 24 << 20 }
        let size = 15 << 20
        try await manager.withClient { client in
            var digests: [String] = []
            for index in 0..<10 {
                let bytes = Self.module(index, size: size)
                let created = try await client.createTask(Self.body(bytes))
                #expect(created.module == .file(digest: ModuleDigest.of(bytes), sizeBytes: size))
                digests.append(ModuleDigest.of(bytes))
            }
            let list = try await client.send("/tasks?limit=1000", .get)
            #expect(list.status == .ok)
            #expect(list.body.readableBytes < 1 << 20, "GET /tasks is \(list.body.readableBytes) bytes")
            let page = try WireCoding.decode(TaskPage.self, from: Data(buffer: list.body))
            #expect(page.total == 10)
            #expect(Set(page.tasks.compactMap { $0.module?.digest }) == Set(digests))
            #expect(page.tasks.allSatisfy { $0.module?.sizeBytes == size && $0.module?.source == "file" })
            let raw = try list.json
            guard case .array(let tasks)? = raw["tasks"], case .object(let first)? = tasks.first else {
                throw TestFailure("no tasks array")
            }
            #expect(first["file"] == nil, "no task in a list carries the module's bytes")
            let one = try await client.send("/tasks/\(page.tasks[3].id)", .get)
            #expect(one.body.readableBytes < 8192)
            #expect(try one.json["file"] == nil)
        }
    }

    @Test("GET /tasks/{id}/module serves the exact bytes as application/wasm; the start command carries them")
    func moduleBytes() async throws {
        let manager = TestManager()
        try await manager.withClient { client in
            let bytes = Self.module(7, size: 300_000)
            let task = try await client.createTask(Self.body(bytes))
            let response = try await client.send("/tasks/\(task.id)/module", .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/wasm")
            #expect(Data(buffer: response.body) == bytes)
            #expect(try await client.send("/tasks/\(task.id)/module?x=1", .get).status == .badRequest)
            let unknown = try await client.send("/tasks/\(UUID().uuidString.lowercased())/module", .get)
            #expect(unknown.status == .notFound)

            try await manager.addProplet(id: "p1")
            #expect(try await client.send("/tasks/\(task.id)/start", .post).status == .ok)
            let message = try #require(manager.pubsub.publishedMessages.last)
            let command = try WireCoding.decode(StartCommand.self, from: message.payload)
            #expect(command.file.flatMap { Data(base64Encoded: $0) } == bytes, "SPEC §2: the start command has file")
        }
    }

    @Test("the same module uploaded twice is stored once", arguments: StoreKind.allCases)
    func storedOnce(store: StoreKind) async throws {
        let manager = TestManager(store: try store.make())
        try await manager.withClient { client in
            let bytes = Self.module(1, size: 1 << 20)
            let first = try await client.createTask(Self.body(bytes, name: "a"))
            let second = try await client.createTask(Self.body(bytes, name: "b"))
            #expect(first.module == second.module)
            #expect(try await manager.store.moduleCount() == 1)
            #expect(try await client.send("/tasks/\(first.id)", .delete).status == .noContent)
            let kept = try await client.send("/tasks/\(second.id)/module", .get)
            #expect(Data(buffer: kept.body) == bytes)
            #expect(try await client.send("/tasks/\(second.id)", .delete).status == .noContent)
            #expect(try await manager.store.moduleCount() == 0)
        }
    }

    @Test("an image_url task: module has its URL as source, null digest and size; GET …/module is 404")
    func imageTask() async throws {
        let manager = TestManager()
        try await manager.withClient { client in
            let task = try await client.createTask(#"{"name": "main", "image_url": "registry.local/app:1"}"#)
            #expect(task.module == .image("registry.local/app:1"))
            let raw = try await client.send("/tasks/\(task.id)", .get).json
            #expect(
                raw["module"]
                    == .object(["digest": .null, "size_bytes": .null, "source": .string("registry.local/app:1")])
            )
            let module = try await client.send("/tasks/\(task.id)/module", .get)
            #expect(module.status == .notFound)
            #expect(module.errorMessage?.contains("image_url") == true)
            // A task read back (with its server field `module`) is accepted as a new body.
            let echoed = try await client.send(
                "/tasks",
                .post,
                body: #"{"name": "main", "image_url": "registry.local/app:1", "module": {"source": "x"}}"#
            )
            #expect(echoed.status == .created)
        }
    }
}
