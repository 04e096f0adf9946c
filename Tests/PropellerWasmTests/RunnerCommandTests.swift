import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

/// The `propeller-wasm` binary running WASI preview 1 commands (SPEC §5, second bullet).
@Suite("propeller-wasm: WASI commands")
struct RunnerCommandTests {
    @Test("a command gets [name] + cli_args + inputs as argv and the job's env, and its stdout is the results")
    func argvAndEnvironment() async throws {
        let job = RunnerJob(
            modulePath: "",
            name: "echo",
            inputs: [.string("x y"), .number(1.5)],
            env: ["GREETING": "hello world"],
            cliArgs: ["--flag", "value"]
        )
        let outcome = try await RunnerHarness.outcome(of: Fixtures.wasm("echo"), job)
        #expect(outcome.state == .completed)
        #expect(outcome.exitCode == 0)
        #expect(outcome.error == nil)
        #expect(outcome.results == "arg echo\narg --flag\narg value\narg x y\narg 1.5\nenv GREETING=hello world\n")
    }

    @Test("name _start runs the command with argv[0] \"task\"")
    func startName() async throws {
        let outcome = try await RunnerHarness.outcome(
            of: Fixtures.wasm("echo"),
            RunnerJob(modulePath: "", name: "_start")
        )
        #expect(outcome == RunnerOutcome(state: .completed, results: "arg task\n", exitCode: 0))
    }

    @Test("a non-zero exit fails with the exit code and the tail of stderr, keeping stdout as results")
    func nonZeroExit() async throws {
        let job = RunnerJob(modulePath: "", name: "echo", inputs: [.integer(7)])
        let finished = try await RunnerHarness(module: Fixtures.wasm("echo"), job: job).finish()
        #expect(finished.status == 0)
        let outcome = try finished.outcome()
        #expect(outcome.state == .failed)
        #expect(outcome.exitCode == 7)
        #expect(outcome.error == "exited with code 7; stderr: echo: exiting with code 7\n")
        #expect(outcome.results == "arg echo\narg 7\n")
        // The guest's stderr is also forwarded to the runner's own stderr, for the proplet's log.
        #expect(finished.stderr.contains("echo: exiting with code 7"))
    }

    @Test("stdout beyond 1 MiB is cut with a note; the guest never blocks on a full pipe")
    func stdoutCap() async throws {
        let finished = try await RunnerHarness(
            module: Fixtures.wasm("flood"),
            job: RunnerJob(modulePath: "", name: "flood")
        )
        .finish()
        let outcome = try finished.outcome()
        #expect(outcome.state == .completed)
        let results = try #require(outcome.results)
        #expect(results.utf8.count <= 1 << 20)
        #expect(results.utf8.count > (1 << 20) - 200)
        #expect(results.hasPrefix("xxxxxxxx"))
        #expect(results.hasSuffix("[stdout truncated: 2621440 bytes written, only the first 1048576 bytes are kept]"))
        #expect(finished.stderr.contains("flood done"))
    }

    @Test("a trap inside a command fails with the trap reason")
    func commandTrap() async throws {
        let module = try Fixtures.wasm(
            text: #"(module (memory (export "memory") 1) (func (export "_start") unreachable))"#
        )
        let outcome = try await RunnerHarness.outcome(of: module, RunnerJob(modulePath: "", name: "main"))
        #expect(outcome.state == .failed)
        #expect(outcome.error == "wasm trap in \"_start\": unreachable")
        #expect(outcome.exitCode == nil)
    }

    @Test("an idle daemon keeps running, does not spin, and ends on SIGTERM without an outcome")
    func daemonRunsUntilKilled() async throws {
        let runner = try await RunnerHarness(
            module: Fixtures.wasm("daemon"),
            job: RunnerJob(modulePath: "", name: "daemon", daemon: true)
        )
        try await Task.sleep(for: .milliseconds(500))
        let before = try #require(runner.cpuTicks())
        try await Task.sleep(for: .milliseconds(1500))
        #expect(runner.isRunning)
        let after = try #require(runner.cpuTicks())
        // A spinning loop would use ~150 ticks (100 Hz) in 1.5 s; an idle one uses about none.
        #expect(after - before < 30)
        runner.signal(SIGTERM)
        let finished = try await runner.finish(timeout: 10)
        #expect(finished.reason == .uncaughtSignal)
        #expect(finished.status == SIGTERM)
        #expect(finished.stdout.isEmpty)
    }

    @Test("the memory fixture's RSS reflects the MiB it holds")
    func memoryHeld() async throws {
        let runner = try await RunnerHarness(
            module: Fixtures.wasm("memory"),
            job: RunnerJob(modulePath: "", name: "hold", inputs: [.integer(48), .integer(-1)])
        )
        var rss = 0
        for _ in 0..<200 where rss < 48 * 1024 {
            try await Task.sleep(for: .milliseconds(50))
            rss = runner.statusKilobytes("VmRSS") ?? 0
        }
        #expect(rss >= 48 * 1024)
        #expect(rss < 48 * 1024 + 64 * 1024)
        runner.signal(SIGKILL)
        let finished = try await runner.finish(timeout: 10)
        #expect(finished.reason == .uncaughtSignal)
    }

    @Test("hold with a finite time returns the MiB it reached")
    func memoryReturns() async throws {
        let outcome = try await RunnerHarness.call("memory", "hold", [.integer(8), .integer(50)])
        #expect(outcome == RunnerOutcome(state: .completed, results: "8"))
    }
}
