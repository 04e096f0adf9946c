#if os(Linux)
import Foundation
import Glibc
import PropellerLauncher

/// A child process started by `ProcessLauncher`, driven over a line protocol on its stdin/stdout.
///
/// Nothing reaps the child behind the test's back (`LaunchReaping.onRequest`): it stays a zombie
/// after exiting until `wait()` is called, so tests can observe that state. Dropping the object
/// kills (SIGKILL) and reaps a child that is still there. Ignores SIGPIPE in the test process so a
/// write to a dead child fails with `EPIPE` instead of killing the test run.
public final class ChildProcess {
    /// The child's process id.
    public let pid: Int32
    private let process: LaunchedProcess
    private let input: Int32
    private let output: Int32
    private var pending: [UInt8] = []

    /// Starts `executable` with `arguments`; its stdin and stdout are pipes to this object and its
    /// stderr is the test's. The environment is empty.
    public init(executable: String, arguments: [String] = []) async throws {
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0 else { throw ChildProcessError.spawn(errno: errno) }
        guard pipe(&fromChild) == 0 else {
            close(toChild[0])
            close(toChild[1])
            throw ChildProcessError.spawn(errno: errno)
        }
        // Glibc's module does not export pipe2: mark close-on-exec right away, so children spawned
        // concurrently by other tests do not inherit these pipes.
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let launched: LaunchedProcess
        do {
            launched = try await ProcessLauncher.launch(
                executable,
                arguments: arguments,
                environment: [:],
                standardInput: toChild[0],
                output: .descriptor(fromChild[1]),
                error: .descriptor(2),
                reaping: .onRequest
            )
        } catch {
            for fd in toChild + fromChild { close(fd) }
            throw error
        }
        close(toChild[0])
        close(fromChild[1])
        process = launched
        pid = launched.processIdentifier
        input = toChild[1]
        output = fromChild[0]
    }

    deinit {
        let process = process
        if process.terminationStatus == nil {
            process.send(SIGKILL)
            Task { await process.waitForExit(timeout: nil) }
        }
        close(input)
        close(output)
    }

    /// Writes one line (a newline is added) to the child's stdin.
    public func send(_ line: String) throws {
        var bytes = Array((line + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeMutableBytes { write(input, $0.baseAddress! + written, $0.count - written) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw ChildProcessError.closed(pid: pid) }
            written += count
        }
        bytes.removeAll()
    }

    /// Reads one line from the child's stdout (without the newline), waiting at most `timeout` seconds.
    public func readLine(timeout: Double = 20) throws -> String {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw ChildProcessError.timeout(pid: pid) }
            var poller = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(remaining.components.seconds * 1000) + 1
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress!, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw ChildProcessError.closed(pid: pid) }
            pending += chunk[..<count]
        }
    }

    /// Sends a line and returns the child's one-line reply.
    public func request(_ line: String, timeout: Double = 20) throws -> String {
        try send(line)
        return try readLine(timeout: timeout)
    }

    /// Sends a signal to the child.
    public func signal(_ number: Int32) {
        process.send(number)
    }

    /// Waits for the child to exit and reaps it; returns its exit status (128 + signal for a signal),
    /// or nil when it was reaped already.
    @discardableResult
    public func wait() async -> Int32? {
        guard process.terminationStatus == nil else { return nil }
        return await process.waitForExit(timeout: nil)
    }
}

/// A failure driving a `ChildProcess`.
public enum ChildProcessError: Error, CustomStringConvertible {
    /// `pipe` failed.
    case spawn(errno: Int32)
    /// The child closed its end of a pipe (it exited).
    case closed(pid: Int32)
    /// The child did not answer in time.
    case timeout(pid: Int32)

    /// A sentence naming the child and what went wrong.
    public var description: String {
        switch self {
        case .spawn(let code): return "cannot start the child process: \(String(cString: strerror(code)))"
        case .closed(let pid): return "child process \(pid) closed its pipe (it exited)"
        case .timeout(let pid): return "child process \(pid) did not answer in time"
        }
    }
}
#endif
