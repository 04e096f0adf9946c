import PropellerCore
import PropellerWasm

// The lean per-task runner the proplet spawns: `propeller-wasm JOB_FILE`.
//
// Reads a `RunnerJob` (JSON) from JOB_FILE, runs the module on the main thread (WasmKit cannot be
// interrupted, so Wasm never runs on the cooperative pool), and prints exactly one `RunnerOutcome`
// as one JSON line on stdout. Everything else goes to stderr. Exit status 0 whenever an outcome was
// printed (completed or failed), 2 when it could not even report (bad usage, stdout unusable).
// After the outcome line it waits until its stdin is closed (at most 10 s) before exiting, so the
// proplet can take the final sample of a live process whose work has ended (see `RunnerOutcome`).
// A daemon task runs until the proplet ends this process with SIGTERM or SIGKILL.
//
// Only FoundationEssentials (through PropellerCore's JSON coding) is linked, not all of Foundation:
// that keeps an idle task's process small (see Benchmarks/runner).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func report(_ outcome: RunnerOutcome) -> Never {
    guard let encoded = try? WireCoding.encode(outcome) else {
        StandardError.write("propeller-wasm: cannot encode the outcome")
        exit(2)
    }
    var line = [UInt8](encoded)
    line.append(UInt8(ascii: "\n"))
    let complete = line.withUnsafeBytes { raw -> Bool in
        var offset = 0
        while offset < raw.count {
            let written = write(1, raw.baseAddress! + offset, raw.count - offset)
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
    guard complete else {
        StandardError.write("propeller-wasm: cannot write the outcome: \(String(cString: strerror(errno)))")
        exit(2)
    }
    waitForRelease()
    exit(0)
}

/// Waits until the proplet closes this process's stdin (its go-ahead after the final sample), it
/// dies, or 10 s pass. With stdin at /dev/null (run by hand) this returns at once.
func waitForRelease() {
    var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
    let deadline = 10_000
    var waited = 0
    while waited < deadline {
        let ready = poll(&descriptor, 1, 500)
        if ready < 0 && errno == EINTR { continue }
        if ready != 0 {
            var byte: UInt8 = 0
            // EOF (0) or an error: released. A byte: not part of the protocol; keep waiting for EOF.
            if ready < 0 || read(0, &byte, 1) <= 0 { return }
            continue
        }
        waited += 500
    }
}

/// Makes SIGTERM and SIGINT end the process, whatever mask and dispositions the parent passed down
/// (a spawning process may block or ignore them, and the proplet stops tasks with SIGTERM).
func restoreDefaultSignals() {
    var none = sigset_t()
    sigemptyset(&none)
    sigprocmask(SIG_SETMASK, &none, nil)
    for number in [SIGTERM, SIGINT, SIGHUP] { signal(number, SIG_DFL) }
}

/// The proplet that spawned this runner, read once at start.
nonisolated(unsafe) var proplet: pid_t = 0

/// Ends this task's process when the proplet that spawned it dies, even by SIGKILL: a task must never
/// outlive its proplet as an unmonitored orphan. A small thread checks the parent once a second (an orphan
/// is re-parented, so `getppid()` changes). `PR_SET_PDEATHSIG` is not used: it fires when the spawning
/// *thread* exits, and the proplet spawns from Swift's cooperative pool, whose idle threads do exit.
func dieWithParent() {
    proplet = getppid()
    if proplet == 1 {
        StandardError.write("propeller-wasm: the proplet that started this task is gone")
        exit(2)
    }
    var watcher = pthread_t()
    let started = pthread_create(
        &watcher,
        nil,
        { _ in
            while true {
                sleep(1)
                if getppid() != proplet { _exit(137) }
            }
        },
        nil
    )
    if started != 0 { StandardError.write("propeller-wasm: cannot watch the proplet (errno \(started))") }
}

restoreDefaultSignals()
dieWithParent()
let arguments = CommandLine.arguments
guard arguments.count == 2, !arguments[1].hasPrefix("-") else {
    StandardError.write("usage: propeller-wasm JOB_FILE  (a RunnerJob as JSON; prints one RunnerOutcome as JSON)")
    exit(2)
}

let job: RunnerJob
do {
    job = try WireCoding.decode(RunnerJob.self, from: try HostFile.read(arguments[1]))
} catch let error as HostFile.ReadError {
    report(RunnerOutcome(state: .failed, error: "cannot read runner job \(error)"))
} catch {
    report(RunnerOutcome(state: .failed, error: "invalid runner job \(arguments[1]): \(error)"))
}

report(WasmTaskRunner().run(job))
