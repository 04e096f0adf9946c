import Subprocess
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child started by `ProcessLauncher`: signal it, wait for it, stop it.
///
/// The pid stays valid for signals until the child has been reaped: the launcher collects the exit
/// status only after this object has stopped sending (one lock), so a signal never reaches a recycled
/// pid. Waiting polls every 5 ms with `Task.sleep`, so it never blocks a thread of the cooperative pool.
public final class LaunchedProcess: Sendable {
    /// The child's pid (also its process group id when launched with `ownProcessGroup`).
    public let processIdentifier: pid_t
    private let state: LaunchState

    init(processIdentifier: pid_t, state: LaunchState) {
        self.processIdentifier = processIdentifier
        self.state = state
    }

    /// Whether the child still runs (an exited child that is not reaped yet does not run).
    public var isRunning: Bool { !state.hasExited }

    /// The exit status, or 128 + signal number when a signal ended it; nil until it has been reaped.
    public var terminationStatus: Int32? { state.status }

    /// The signal that ended the child, or nil when it exited (or has not been reaped yet): tells an
    /// `exit(137)` from a SIGKILL, which `terminationStatus` reports alike.
    public var terminationSignal: Int32? { state.signal }

    /// Sends `signal` to the child unless it has already been reaped.
    public func send(_ signal: Int32) { state.send(signal, to: processIdentifier) }

    /// Sends `signal` to the child's whole process group (the child itself without `ownProcessGroup`).
    public func sendToGroup(_ signal: Int32) {
        state.send(signal, to: state.ownProcessGroup ? -processIdentifier : processIdentifier)
    }

    /// Waits until the child exits and is reaped, or `timeout` passes (nil: no limit); returns the
    /// status, or nil on timeout. With `LaunchReaping.onRequest` this is the call that reaps.
    @discardableResult
    public func waitForExit(timeout: Duration? = .seconds(30)) async -> Int32? {
        state.requestReaping()
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while true {
            if let status = state.status { return status }
            if let deadline, ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Stops the child: SIGTERM (to its group with `ownProcessGroup`), then SIGKILL after `grace`.
    /// Returns once it has been reaped.
    public func terminate(grace: Duration = .seconds(5)) async {
        sendToGroup(SIGTERM)
        if await waitForExit(timeout: grace) != nil { return }
        sendToGroup(SIGKILL)
        await waitForExit(timeout: nil)
    }
}

/// What the launcher's task and the `LaunchedProcess` share.
final class LaunchState: Sendable {
    private struct Values {
        var exited = false
        var reapRequested = false
        var released = false
        var status: Int32?
        var signal: Int32?
    }

    let reaping: LaunchReaping
    let ownProcessGroup: Bool
    private let values = Mutex(Values())

    init(reaping: LaunchReaping, ownProcessGroup: Bool) {
        self.reaping = reaping
        self.ownProcessGroup = ownProcessGroup
    }

    var hasExited: Bool { values.withLock { $0.exited || $0.status != nil } }
    var status: Int32? { values.withLock { $0.status } }
    var signal: Int32? { values.withLock { $0.signal } }

    func requestReaping() { values.withLock { $0.reapRequested = true } }

    func send(_ signal: Int32, to target: pid_t) {
        values.withLock { value in
            if !value.released { _ = kill(target, signal) }
        }
    }

    /// Runs inside swift-subprocess's body: hands out the `LaunchedProcess`, then returns (letting
    /// swift-subprocess reap the child) only once the child has exited — seen with `WNOWAIT`, which
    /// leaves the zombie — and, with `.onRequest`, someone waits for it.
    func supervise(_ pid: pid_t, started: Started) async {
        started.succeed(LaunchedProcess(processIdentifier: pid, state: self))
        while true {
            var info = siginfo_t()
            let peeked = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
            let exited = peeked == 0 && info._sifields._sigchld.si_pid == pid
            let done = values.withLock { value -> Bool in
                if exited { value.exited = true }
                guard value.exited, reaping == .automatic || value.reapRequested else { return false }
                value.released = true
                return true
            }
            if done { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Records the reaped child's status (nil: the launch failed).
    func finish(_ termination: TerminationStatus?) {
        values.withLock { value in
            value.exited = true
            value.released = true
            switch termination {
            case .exited(let code): value.status = code
            case .signaled(let signal):
                value.status = 128 + signal
                value.signal = signal
            case nil: value.status = -1
            }
        }
    }
}

/// Hands the `LaunchedProcess` (or the launch failure) from the child's task to `launch`'s caller once.
final class Started: Sendable {
    private let continuation = Mutex<CheckedContinuation<LaunchedProcess, any Error>?>(nil)

    func set(_ value: CheckedContinuation<LaunchedProcess, any Error>) { continuation.withLock { $0 = value } }

    func succeed(_ launched: LaunchedProcess) {
        continuation.withLock { value in
            value?.resume(returning: launched)
            value = nil
        }
    }

    func fail(_ error: any Error) {
        continuation.withLock { value in
            value?.resume(throwing: error)
            value = nil
        }
    }
}
