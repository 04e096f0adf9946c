import PropellerCore

#if canImport(Glibc)
import Glibc
#endif

/// Turns a task process's exit into a task result: the runtime's outcome when it gave one, otherwise
/// a failure that says how the process died; a stop decided by the proplet makes it `stopped`, and a
/// limit it went past makes it `failed` with the limit's message (SPEC §5).
enum RunnerResultInterpreter {
    /// The result of an exited task process (task and proplet ids, timestamps and metrics are set by
    /// the caller). `outcome` is what the runtime read from the process (nil: none); `limits` are the
    /// limits it ran under.
    static func result(
        of exit: ChildProcess.Exit,
        outcome: RunnerOutcome?,
        stopReason: TaskStopReason?,
        limits: TaskLimits = .none
    ) -> TaskResult {
        var result = TaskResult(taskID: "", propletID: "", state: .failed)
        if case .timeout(let seconds)? = stopReason, outcome?.state != .completed {
            result.error = TaskLimits.Exceeded.timeout(seconds: seconds).message
            return result
        }
        if let exceeded = exceededLimit(exit, outcome: outcome, limits: limits) {
            result.error = exceeded.message
            return result
        }
        if let stopReason, outcome?.state != .completed {
            result.state = .stopped
            if stopReason == .shutdown { result.error = "stopped because the proplet shut down" }
            if case .exited(let code)? = exit.termination { result.exitCode = Int(code) }
            return result
        }
        if let outcome {
            guard outcome.state == .completed || outcome.state == .failed else {
                result.error =
                    "the task runner reported the state \(outcome.state.rawValue); expected completed or failed"
                return result
            }
            result.state = outcome.state
            result.results = outcome.results
            result.error = outcome.state == .failed ? (outcome.error ?? "the task failed without a reason") : nil
            result.exitCode = outcome.exitCode
            return result
        }
        var reason: String
        switch exit.termination {
        case .signaled(let signal)?:
            reason = "the task runner was killed by signal \(signal) (\(signalName(signal)))"
        case .exited(let code)?:
            reason = "the task runner exited with status \(code) without reporting an outcome"
            result.exitCode = Int(code)
        case nil:
            reason = "the task runner ended without reporting an outcome"
        }
        let tail = stderrTail(exit.stderrTail)
        if !tail.isEmpty { reason += "; its last output on stderr: \(tail)" }
        result.error = reason
        return result
    }

    /// The result of a task that ended before any process ran (a bad module, a missing export).
    static func result(of outcome: RunnerOutcome) -> TaskResult {
        var result = TaskResult(taskID: "", propletID: "", state: outcome.state == .completed ? .completed : .failed)
        result.results = outcome.results
        result.error = result.state == .failed ? (outcome.error ?? "the task failed without a reason") : nil
        result.exitCode = outcome.exitCode
        return result
    }

    /// The limit a process without an outcome was ended for: `RLIMIT_CPU` sends SIGXCPU at the soft
    /// limit and SIGKILL at the hard one (one second later).
    static func exceededLimit(
        _ exit: ChildProcess.Exit,
        outcome: RunnerOutcome?,
        limits: TaskLimits
    ) -> TaskLimits.Exceeded? {
        guard outcome == nil, let cpu = limits.cpuSeconds, case .signaled(let signal)? = exit.termination else {
            return nil
        }
        if signal == SIGXCPU || (signal == SIGKILL && exit.cpuSeconds >= Double(cpu) * 0.9) {
            return .cpu(seconds: cpu)
        }
        return nil
    }

    /// The last non-empty stdout line decoded as a `RunnerOutcome`, or nil.
    static func decodeOutcome(_ stdout: [UInt8]) -> RunnerOutcome? {
        let lines = stdout.split(separator: UInt8(ascii: "\n"))
        guard let last = lines.last(where: { line in line.contains { $0 != 32 && $0 != 13 } }) else { return nil }
        return try? WireCoding.decode(RunnerOutcome.self, from: Array(last))
    }

    /// The last few hundred characters of stderr, on one line.
    static func stderrTail(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.suffix(400), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).joined(separator: " | ").trimmingWhitespace
    }
}
