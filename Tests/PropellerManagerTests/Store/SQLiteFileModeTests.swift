import Foundation
import Logging
import Testing

@testable import PropellerManager

@Suite("The manager's database is private when the manager creates it")
struct SQLiteFileModeTests {
    static func mode(_ path: String) throws -> Int {
        ((try FileManager.default.attributesOfItem(atPath: path))[.posixPermissions] as? Int ?? -1) & 0o777
    }

    @Test("a new directory is 0700 and the database and its WAL files 0600; an existing file keeps its mode")
    func modes() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("db-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("data/propeller.db").path
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        try await store.createTask(StoreFixtures.task("t1"))
        #expect(try Self.mode(root.appendingPathComponent("data").path) == 0o700)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            #expect(try Self.mode(path + suffix) == 0o600, "propeller.db\(suffix)")
        }
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        try store.close()

        let shared = root.appendingPathComponent("shared.db").path
        _ = FileManager.default.createFile(atPath: shared, contents: nil, attributes: [.posixPermissions: 0o640])
        let other = try SQLiteStore(path: shared, logger: Logger(label: "test"))
        try other.close()
        #expect(try Self.mode(shared) == 0o640, "an operator's own file is left alone")
    }
}
