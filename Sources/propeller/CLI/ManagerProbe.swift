import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One quick TCP connect to the manager before the CLI's first request, so a manager that is down is one
/// plain sentence at once instead of the HTTP client retrying the connection until its timeout.
enum ManagerProbe {
    /// Base URLs already probed by this process (a command sends several requests; `top` many).
    private static let reached = Mutex<Set<String>>([])

    /// Throws a one-sentence `CLIError` when nothing accepts a TCP connection at the URL's host and port
    /// within `timeout`; returns at once when the URL was reached before.
    static func check(_ url: URL, timeout: Duration = .seconds(3)) throws {
        let key = url.absoluteString
        if reached.withLock({ $0.contains(key) }) { return }
        guard let host = url.host else { return }
        let port = url.port ?? (url.scheme == "https" ? 443 : 80)
        let manager = "the manager at \(url.scheme ?? "http")://\(host):\(port)"
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw CLIError(description: "cannot reach \(manager): the host name \(host) does not resolve")
        }
        defer { freeaddrinfo(list) }
        var failure = "nothing accepts connections there (is it running? set PROPELLER_MANAGER_URL or --manager-url)"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            switch connect(address.pointee, timeout: timeout) {
            case 0:
                reached.withLock { _ = $0.insert(key) }
                return
            case ETIMEDOUT:
                failure = "no answer to a connection within \(timeout.components.seconds) s"
            case EHOSTUNREACH, ENETUNREACH:
                failure = "the network cannot reach \(host)"
            default:
                break
            }
            entry = address.pointee.ai_next
        }
        throw CLIError(description: "cannot reach \(manager): \(failure)")
    }

    /// 0 when connected, else the errno of the failure (ETIMEDOUT when `timeout` passed).
    private static func connect(_ address: addrinfo, timeout: Duration) -> Int32 {
        let fd = socket(address.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        if Glibc.connect(fd, address.ai_addr, address.ai_addrlen) == 0 { return 0 }
        guard errno == EINPROGRESS else { return errno }
        var poll = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000)
        guard Glibc.poll(&poll, 1, milliseconds) == 1 else { return ETIMEDOUT }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error
    }
}
