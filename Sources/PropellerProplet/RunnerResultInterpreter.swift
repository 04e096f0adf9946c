import PropellerCore

/// Turns a runner's exit into a task result: its `RunnerOutcome` line when it printed one, otherwise
/// a failure that says how the runner died; a stop decided by the proplet makes it `stopped`.
enum RunnerResultInterpreter {
    /// The result of an exited runner (task and proplet ids, timestamps and metrics are set by the
    /// caller).
    static func result(
        of exit: ChildProcess.Exit,
        stopReason: TaskStopReason?
    ) -> TaskResult {
        let outcome = decodeOutcome(exit.stdout)
        var result = TaskResult(taskID: "", propletID: "", state: .failed)
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
