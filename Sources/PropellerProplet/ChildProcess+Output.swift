import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension ChildProcess {
    /// What the watcher read from the child's pipes.
    struct DrainedOutput {
        var stdout: [UInt8] = []
        var stdoutTotalBytes = 0
        var stderrTail: [UInt8] = []
    }

    /// Reads both pipes until both are closed (blocking `poll`, on the watcher thread only); calls
    /// `onFirstLine` once, when stdout first holds a complete line (the runner's report).
    static func drain(
        stdoutFD: Int32,
        stderrFD: Int32,
        stdoutRetention: OutputRetention,
        onFirstLine: () -> Void
    ) -> DrainedOutput {
        var sawLine = false
        var stdout: [UInt8] = []
        var stdoutTotal = 0
        var stderr: [UInt8] = []
        var fds = [
            pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0),
        ]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while fds.contains(where: { $0.fd >= 0 }) {
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready == -1 {
                if errno == EINTR { continue }
                break
            }
            for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(fds[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    if index == 0 {
                        stdoutTotal += count
                        switch stdoutRetention {
                        case .tail(let limit):
                            append(&stdout, buffer[0..<count], limit: limit)
                        case .head(let limit):
                            stdout.append(contentsOf: buffer[0..<min(count, max(0, limit - stdout.count))])
                        }
                        if !sawLine, buffer[0..<count].contains(UInt8(ascii: "\n")) {
                            sawLine = true
                            onFirstLine()
                        }
                    } else {
                        append(&stderr, buffer[0..<count], limit: stderrTailLimit)
                    }
                } else if count == 0 || errno != EINTR {
                    close(fds[index].fd)
                    fds[index].fd = -1
                }
                fds[index].revents = 0
            }
        }
        return DrainedOutput(stdout: stdout, stdoutTotalBytes: stdoutTotal, stderrTail: stderr)
    }

    private static func append(_ bytes: inout [UInt8], _ chunk: ArraySlice<UInt8>, limit: Int) {
        bytes.append(contentsOf: chunk)
        if bytes.count > limit { bytes.removeFirst(bytes.count - limit) }
    }
}

/// The conventional name of a signal number (`SIGKILL`), or `signal N`.
package func signalName(_ signal: Int32) -> String {
    let names: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
        SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
        SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
        SIGXCPU: "SIGXCPU",
    ]
    return names[signal] ?? "signal \(signal)"
}
