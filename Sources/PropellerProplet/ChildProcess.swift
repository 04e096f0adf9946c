import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One task runner process, spawned with `posix_spawn` so its pid is known at once.
///
/// The child's stdin is a pipe the proplet holds open: it carries nothing, and closing it (`release()`)
/// is the runner protocol's go-ahead to exit after reporting (see `RunnerOutcome`). `waitForReport()`
/// returns once the child has written its first complete stdout line (its outcome) or has exited.
///
/// A dedicated thread (never the cooperative pool) drains the child's stdout and stderr, waits for its
/// exit with `waitid(…, WNOWAIT)`, and then reaps it with `wait4`, whose rusage gives the child's exact
/// lifetime CPU time, I/O blocks and peak RSS for the final sample. Signals are sent only while the
/// child is not reaped (the check and `kill` hold the same lock as `wait4`), so a reused pid is never
/// signalled.
package final class ChildProcess: Sendable {
    /// How the process ended.
    package enum Termination: Sendable, Hashable, CustomStringConvertible {
        /// It called `exit` with this status.
        case exited(code: Int32)
        /// It was ended by this signal.
        case signaled(signal: Int32)

        package var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let signal): "was killed by signal \(signal) (\(signalName(signal)))"
            }
        }
    }

    /// How the child ended, what it used (from `wait4`'s rusage) and what it wrote.
    package struct Exit: Sendable, Hashable {
        /// Exit status or signal; nil if the child could not be reaped (it was reaped elsewhere).
        package var termination: Termination?
        /// User + system CPU seconds over the child's whole life.
        package var cpuSeconds: Double
        /// Peak resident set size in bytes (`ru_maxrss`).
        package var maxRSSBytes: Int64
        /// Bytes read from storage over its life (`ru_inblock` × 512, the same counter as
        /// `read_bytes` in `/proc/[pid]/io`).
        package var diskReadBytes: Int64
        /// Bytes written to storage over its life (`ru_oublock` × 512).
        package var diskWriteBytes: Int64
        /// When the exit was seen (monotonic).
        package var exitedAt: ContinuousClock.Instant
        /// Stdout: what `stdoutRetention` kept (by default the last `stdoutLimit` bytes).
        package var stdout: [UInt8]
        /// Every byte written to stdout, kept or not.
        package var stdoutTotalBytes: Int = 0
        /// The last `stderrTailLimit` bytes of stderr.
        package var stderrTail: [UInt8]
    }

    private enum WaitState {
        case running(CheckedContinuation<Exit, Never>?)
        case exited(Exit)
        case taken
    }

    private enum ReportState {
        case waiting([CheckedContinuation<Bool, Never>])
        case done(reported: Bool)
    }

    /// The child's process id.
    package let pid: pid_t
    private let waitState = Mutex<WaitState>(.running(nil))
    private let reaped = Mutex<Bool>(false)
    private let reportState = Mutex<ReportState>(.waiting([]))
    /// The write end of the child's stdin; -1 once released.
    private let stdinWriter: Mutex<Int32>

    /// Most stdout kept: the runner caps results at 1 MiB, and JSON escaping can grow it.
    package static let stdoutLimit = 16 << 20
    /// Most stderr kept (its tail).
    package static let stderrTailLimit = 4096

    /// Which stdout bytes are kept.
    package enum OutputRetention: Sendable, Hashable {
        /// The last `limit` bytes (the runner's outcome is its last line).
        case tail(limit: Int)
        /// The first `limit` bytes (a WASI command's stdout, capped at its beginning).
        case head(limit: Int)
    }

    /// A resource limit set on the child (`prlimit`) before it can run for long.
    package struct ResourceLimit: Sendable, Hashable {
        /// `RLIMIT_CPU`, `RLIMIT_DATA`, `RLIMIT_CORE`, …
        package var resource: Int32
        /// Soft and hard limit.
        package var soft: UInt64
        package var hard: UInt64

        /// Creates a limit.
        package init(resource: Int32, soft: UInt64, hard: UInt64) {
            self.resource = resource
            self.soft = soft
            self.hard = hard
        }
    }

    private init(pid: pid_t, stdinWriter: Int32) {
        self.pid = pid
        self.stdinWriter = Mutex(stdinWriter)
    }

    deinit {
        release()
    }

    /// Waits until the child has written its first complete line on stdout (true: the runner reported
    /// its outcome and now waits for `release()`) or has exited without one (false).
    package func waitForReport() async -> Bool {
        await withCheckedContinuation { continuation in
            let done: Bool? = reportState.withLock { state in
                switch state {
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                case .done(let reported):
                    return reported
                }
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Closes the child's stdin: the go-ahead for a runner that reported to exit. Idempotent.
    package func release() {
        stdinWriter.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    private func settleReport(_ reported: Bool) {
        let waiters: [CheckedContinuation<Bool, Never>] = reportState.withLock { state in
            guard case .waiting(let waiters) = state else { return [] }
            state = .done(reported: reported)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: reported) }
    }

    /// Spawns `executable` with `arguments` (argv[1…]) in its own process group, with stdout and stderr
    /// piped to the parent, every other descriptor closed, and every signal at its default disposition
    /// and unblocked (the parent ignores SIGTERM/SIGINT for its signal handling; the child must not).
    /// The proplet's own environment is never passed on: the proplet's secrets must not reach a task.
    ///
    /// - Parameters:
    ///   - environment: `KEY=VALUE` entries; nil passes `TaskEnvironment`'s allow-listed variables of
    ///     the proplet's environment (never `PROPELLER_MQTT_PASSWORD` or any other secret).
    ///   - stdoutRetention: which stdout bytes to keep (default: the last `stdoutLimit`).
    ///   - limits: set with `prlimit(2)` on the new pid before this returns. The child may already be
    ///     running; CPU time is counted from its start all the same, so `RLIMIT_CPU` loses nothing.
    package static func spawn(
        executable: String,
        arguments: [String],
        environment: [String]? = nil,
        stdoutRetention: OutputRetention = .tail(limit: stdoutLimit),
        limits: [ResourceLimit] = [],
        finalSampleHandshake: Bool = false
    ) throws(PropletError) -> ChildProcess {
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        var stdinPipe: [Int32] = [-1, -1]
        guard makePipe(&stdoutPipe) else { throw spawnError(executable, "pipe", errno) }
        guard makePipe(&stderrPipe), makePipe(&stdinPipe) else {
            let code = errno
            for fd in stdoutPipe + stderrPipe + stdinPipe where fd >= 0 { close(fd) }
            throw spawnError(executable, "pipe", code)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if finalSampleHandshake {
            posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        // Every other descriptor (the MQTT socket, other tasks' pipes) must not leak into the child:
        // a leaked socket would keep the broker from seeing this proplet die (no last will).
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD] {
            sigaddset(&defaults, signal)
        }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP)
        )

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let entries = environment ?? TaskEnvironment.current()
        let envp: [UnsafeMutablePointer<CChar>?] = entries.map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(stdoutPipe[1])
        close(stderrPipe[1])
        close(stdinPipe[0])
        guard result == 0 else {
            close(stdoutPipe[0])
            close(stderrPipe[0])
            close(stdinPipe[1])
            throw spawnError(executable, "posix_spawn", result)
        }
        for limit in limits {
            var value = rlimit(rlim_cur: rlim_t(limit.soft), rlim_max: rlim_t(limit.hard))
            guard let prlimit = Self.prlimit, prlimit(pid, limit.resource, &value, nil) == 0 else {
                let code = Self.prlimit == nil ? ENOSYS : errno
                kill(pid, SIGKILL)
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                close(stdoutPipe[0])
                close(stderrPipe[0])
                close(stdinPipe[1])
                throw spawnError(executable, "prlimit(\(limit.resource))", code)
            }
        }
        // A reader that is gone must not kill the proplet with SIGPIPE (nothing is ever written, but
        // keep the end non-blocking and quiet anyway).
        _ = fcntl(stdinPipe[1], F_SETFL, O_NONBLOCK)
        if !finalSampleHandshake {
            close(stdinPipe[1])
            stdinPipe[1] = -1
        }
        let child = ChildProcess(pid: pid, stdinWriter: stdinPipe[1])
        child.startWatcher(
            stdoutFD: stdoutPipe[0],
            stderrFD: stderrPipe[0],
            stdoutRetention: stdoutRetention,
            reports: finalSampleHandshake
        )
        return child
    }

    /// `prlimit(2)` (a GNU extension, so looked up at run time like `addCloseFrom`).
    private static let prlimit:
        (@convention(c) (pid_t, Int32, UnsafePointer<rlimit>?, UnsafeMutablePointer<rlimit>?) -> Int32)? = {
            guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "prlimit") else { return nil }
            return unsafeBitCast(
                symbol,
                to: (@convention(c) (pid_t, Int32, UnsafePointer<rlimit>?, UnsafeMutablePointer<rlimit>?) -> Int32)
                    .self
            )
        }()

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc ≥ 2.34), looked up at run time because
    /// Swift's Glibc module is built without `_GNU_SOURCE`.
    private static let addCloseFrom:
        (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
            guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else {
                return nil
            }
            return unsafeBitCast(
                symbol,
                to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self
            )
        }()

    /// A pipe whose ends are close-on-exec (the child gets its end through `dup2`).
    private static func makePipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    private static func spawnError(_ path: String, _ call: String, _ code: Int32) -> PropletError {
        .spawnFailed(path: path, reason: "\(call): \(String(cString: strerror(code)))")
    }

    /// Waits until the child has exited and been reaped; returns how it ended and what it wrote.
    /// Not cancellable: a caller that is cancelled should kill the child, then keep waiting.
    /// Call it once.
    package func waitForExit() async -> Exit {
        await withCheckedContinuation { continuation in
            let ready: Exit? = waitState.withLock { state in
                switch state {
                case .running:
                    state = .running(continuation)
                    return nil
                case .exited(let exit):
                    state = .taken
                    return exit
                case .taken:
                    preconditionFailure("waitForExit() called twice")
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Whether the child has exited (its exit is known, reaped or about to be); used by tests that
    /// watch a running task.
    package var hasExited: Bool {
        waitState.withLock { state in
            if case .running = state { return false }
            return true
        }
    }

    /// Sends a signal to the child's process group (the child and anything it started), or to the
    /// child alone if it left the group, unless it has been reaped. Returns whether it was sent.
    ///
    /// While the child is unreaped its pid, and so its group id, cannot be reused.
    @discardableResult
    package func signal(_ signal: Int32) -> Bool {
        reaped.withLock { isReaped in
            guard !isReaped else { return false }
            return kill(-pid, signal) == 0 || kill(pid, signal) == 0
        }
    }

    /// Reaps the exited child (on the watcher thread, after `waitid` saw it exit).
    private func reap(output: DrainedOutput, exitedAt: ContinuousClock.Instant) -> Exit {
        reaped.withLock { isReaped -> Exit in
            var status: Int32 = 0
            var usage = rusage()
            var result: pid_t
            repeat {
                result = wait4(pid, &status, 0, &usage)
            } while result == -1 && errno == EINTR
            isReaped = true
            var termination: Termination?
            if result == pid {
                termination =
                    (status & 0x7f) == 0 ? .exited(code: (status >> 8) & 0xff) : .signaled(signal: status & 0x7f)
            }
            let cpu =
                Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
                + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
            return Exit(
                termination: termination,
                cpuSeconds: cpu,
                maxRSSBytes: Int64(usage.ru_maxrss) * 1024,
                diskReadBytes: Int64(usage.ru_inblock) * 512,
                diskWriteBytes: Int64(usage.ru_oublock) * 512,
                exitedAt: exitedAt,
                stdout: output.stdout,
                stdoutTotalBytes: output.stdoutTotalBytes,
                stderrTail: output.stderrTail
            )
        }
    }

    private func startWatcher(stdoutFD: Int32, stderrFD: Int32, stdoutRetention: OutputRetention, reports: Bool) {
        let thread = Thread { [self] in
            let output = Self.drain(stdoutFD: stdoutFD, stderrFD: stderrFD, stdoutRetention: stdoutRetention) {
                if reports { self.settleReport(true) }
            }
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
            settleReport(false)
            release()
            finish(reap(output: output, exitedAt: .now))
        }
        thread.name = "propeller-child-\(pid)"
        thread.stackSize = 256 << 10
        thread.start()
    }

    private func finish(_ exit: Exit) {
        let waiting: CheckedContinuation<Exit, Never>? = waitState.withLock { state in
            if case .running(let continuation?) = state {
                state = .taken
                return continuation
            }
            state = .exited(exit)
            return nil
        }
        waiting?.resume(returning: exit)
    }

    /// What the watcher read from the child's pipes.
    private struct DrainedOutput {
        var stdout: [UInt8] = []
        var stdoutTotalBytes = 0
        var stderrTail: [UInt8] = []
    }

    /// Reads both pipes until both are closed (blocking `poll`, on the watcher thread only); calls
    /// `onFirstLine` once, when stdout first holds a complete line (the runner's report).
    private static func drain(
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
