import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn` and a clean signal state, for tests.
///
/// Why not `Foundation.Process`: on Linux it passes the spawning thread's signal mask on to the child,
/// and Swift's concurrency threads block most signals, so a broker started from a test ignored SIGTERM
/// and `mosquitto_sub -W` never saw its SIGALRM. This type empties the mask and resets the usual
/// signals to their default actions. Waiting polls `waitpid(WNOHANG)` with `Task.sleep`, so it never
/// blocks a thread of the cooperative pool.
public final class SpawnedProcess: Sendable {
    /// The child's pid.
    public let processIdentifier: pid_t
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments`; stdout and stderr are appended to `outputFile` (or go to
    /// /dev/null when nil); stdin is /dev/null. The environment is the test process's.
    public init(_ executable: String, arguments: [String], outputFile: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGCHLD, SIGUSR1, SIGUSR2, SIGQUIT] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) }
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = (argv + [nil]).withUnsafeBufferPointer { buffer in
            posix_spawn(&pid, executable, &actions, &attributes, buffer.baseAddress!, environ)
        }
        guard result == 0 else {
            throw SpawnedProcessError.spawnFailed(executable: executable, errno: result)
        }
        processIdentifier = pid
    }

    /// Whether the child is still running (reaps it when it has exited).
    public var isRunning: Bool { poll() == nil }

    /// The exit status, or 128 + signal number when a signal ended it; nil while running.
    public var terminationStatus: Int32? { poll() }

    /// Sends `signal` to the child unless it has already been reaped.
    public func send(_ signal: Int32) {
        exitStatus.withLock { status in
            if status == nil { kill(processIdentifier, signal) }
        }
    }

    /// Waits until the child exits or `timeout` passes; returns the status, or nil on timeout.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = poll() { return status }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Stops the child: `SIGTERM`, then `SIGKILL` after `grace`. Returns once it has been reaped.
    public func terminate(grace: Duration = .seconds(5)) async {
        send(SIGTERM)
        if await waitForExit(timeout: grace) != nil { return }
        send(SIGKILL)
        await waitForExit(timeout: .seconds(30))
    }

    private func poll() -> Int32? {
        exitStatus.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            let result = waitpid(processIdentifier, &raw, WNOHANG)
            guard result == processIdentifier else { return nil }
            let signal = raw & 0x7f
            status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
            return status
        }
    }
}

/// Starting a child process failed.
public enum SpawnedProcessError: Error, CustomStringConvertible {
    /// `posix_spawn` failed with this error number (e.g. the executable does not exist).
    case spawnFailed(executable: String, errno: Int32)

    /// A readable explanation.
    public var description: String {
        switch self {
        case .spawnFailed(let executable, let errno):
            return "could not start \(executable): \(String(cString: strerror(errno)))"
        }
    }
}
