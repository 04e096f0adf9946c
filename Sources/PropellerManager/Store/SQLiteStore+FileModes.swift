import Foundation
import PropellerCore

extension SQLiteStore {
    /// Makes a new database private before SQLite opens it: a missing directory is created `0700` and
    /// a missing file `0600` (SQLite gives its `-wal` and `-shm` files the database file's mode). An
    /// existing directory or file is left as the operator made it.
    static func preparePrivateFile(_ path: String) throws {
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else { return }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: directory) { try PrivateFiles.makeDirectory(directory) }
        try PrivateFiles.createIfMissing(path)
    }
}
