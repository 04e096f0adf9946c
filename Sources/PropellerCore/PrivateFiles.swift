#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files and directories only their owner can read: directories `0700`, files `0600` (SPEC §7). Used
/// for the proplet's state directory, identity and task files, the module cache and the manager's
/// database.
public enum PrivateFiles {
    /// A failure, naming the path and the system's reason.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The path that could not be created or written.
        public var path: String
        /// `strerror` of the failing call.
        public var reason: String
        /// `PATH: reason`.
        public var description: String { "\(path): \(reason)" }
    }

    /// Creates `path` and every missing parent with mode `0700`; an existing last component owned by
    /// this user is tightened to `0700` too (existing parents are left as they are).
    public static func makeDirectory(_ path: String) throws(Failure) {
        guard !path.isEmpty else { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix = prefix.isEmpty || prefix == "/" ? prefix + component : prefix + "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw failure(prefix) }
        }
        var status = stat()
        guard stat(path, &status) == 0 else { throw failure(path) }
        guard (status.st_mode & S_IFMT) == S_IFDIR else { throw Failure(path: path, reason: "not a directory") }
        if status.st_uid == geteuid() && (status.st_mode & 0o077) != 0 { chmod(path, 0o700) }
    }

    /// Writes `bytes` to `path` (created or truncated) with mode `0600`, set before the first byte.
    public static func write(_ bytes: [UInt8], to path: String) throws(Failure) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure(path) }
        defer { close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0 else { throw failure(path) }
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { throw failure(path) }
            written += result
        }
    }

    /// Creates `path` empty with mode `0600` when it does not exist yet (so a file another program
    /// fills, like an SQLite database, starts private); an existing file is left alone.
    public static func createIfMissing(_ path: String) throws(Failure) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
        } else if errno != EEXIST {
            throw failure(path)
        }
    }

    private static func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(descriptor, buffer, count)
        #else
        Darwin.write(descriptor, buffer, count)
        #endif
    }

    private static func failure(_ path: String) -> Failure {
        Failure(path: path, reason: String(cString: strerror(errno)))
    }
}
