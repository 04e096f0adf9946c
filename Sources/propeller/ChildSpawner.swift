import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Spawns service processes with a clean signal state.
///
/// Each child gets its own process group. `Foundation.Process` passes on the signal mask of the calling thread, and Swift's concurrency threads
/// block signals: a broker started that way ignores SIGTERM. `posix_spawn` with an empty mask and default
/// dispositions does not.
enum ChildSpawner {
    /// Starts `executable` with stdin from /dev/null and stdout+stderr to `outputFD`; returns its pid.
    static func spawn(
        executable: String,
        arguments: [String],
        environment: [String],
        outputFD: Int32
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 1)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // Its own process group: Ctrl-C in the terminal reaches only `propeller dev`, which then stops the
        // children one by one in order (proplet, manager, broker) instead of all of them at once.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)
        )
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw CLIError(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        return pid
    }
}

/// A child of `propeller dev`, reaped with `waitpid`.
final class DevChild: Sendable {
    let pid: pid_t
    private let exited = Mutex(false)

    init(pid: pid_t) { self.pid = pid }

    /// Whether the child still runs (reaps it when it has exited).
    var isRunning: Bool {
        exited.withLock { done in
            if done { return false }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { done = true }
            return !done
        }
    }

    /// SIGTERM, then SIGKILL after `grace`; returns once the child is reaped.
    func terminate(grace: Duration) {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        if isRunning {
            kill(pid, SIGKILL)
            while isRunning { usleep(10_000) }
        }
    }
}
