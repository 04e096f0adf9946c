#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads whole files with plain system calls, so errors carry the system's own reason
/// ("No such file or directory") and the runner needs no more of Foundation than JSON.
public enum HostFile {
    /// A file that could not be read.
    public struct ReadError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The path as given.
        public var path: String
        /// The system's reason (`strerror`).
        public var reason: String

        /// "PATH: reason".
        public var description: String { "\(path): \(reason)" }
    }

    /// Every byte of the file at `path`.
    public static func read(_ path: String) throws(ReadError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ReadError(path: path, reason: lastReason()) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { readBytes(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw ReadError(path: path, reason: lastReason()) }
            guard count > 0 else { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    private static func lastReason() -> String {
        String(cString: strerror(errno))
    }
}

/// `read(2)`, named apart from `HostFile.read`.
func readBytes(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
