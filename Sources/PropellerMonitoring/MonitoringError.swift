#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors of PropellerMonitoring.
public enum MonitoringError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The process exited (it is a zombie) or was reaped: its `/proc` entry is gone or reads fail with
    /// `ESRCH`/`ENOENT`. A kept-open file never starts reading another process after pid reuse.
    case processGone(pid: Int32)
    /// A source could not be read for another reason (permission, unexpected format — then `errno` is
    /// `EINVAL`); `path` names the file.
    case unreadable(path: String, errno: Int32)

    /// A sentence naming the process or file and the reason.
    public var description: String {
        switch self {
        case .processGone(let pid):
            return "process \(pid) is gone (it exited or was reaped)"
        case .unreadable(let path, let errno):
            let reason = errno == EINVAL ? "unexpected content" : String(cString: strerror(errno))
            return "cannot read \(path): \(reason) (errno \(errno))"
        }
    }

    /// Maps a failed system call on a process's file to `processGone` or `unreadable`.
    static func from(errno code: Int32, pid: Int32, path: @autoclosure () -> String) -> MonitoringError {
        code == ESRCH || code == ENOENT ? .processGone(pid: pid) : .unreadable(path: path(), errno: code)
    }
}
