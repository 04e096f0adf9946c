import Foundation
import PropellerCore
import PropellerTestSupport
import Synchronization
import Testing

@testable import PropellerProplet

/// One suite, both runtimes: every test runs once with WasmKit (`propeller-wasm`) and once with the
/// Wasmtime CLI, through the same `TaskRuntime` steps the proplet uses.
@Suite("Task runtimes: the same results and errors with WasmKit and Wasmtime")
struct RuntimeSuiteTests {
    @Test("add(10, 20) completes with results \"30\"", arguments: RuntimeUnderTest.allCases)
    func add(runtime: RuntimeUnderTest) async throws {
        let result = try await RuntimeHarness.call(runtime, "add", "add", [.integer(10), .integer(20)])
        #expect(result.state == .completed)
        #expect(result.results == "30")
        #expect(result.error == nil)
    }

    @Test(
        "i32, i64, f32 and f64 inputs are converted and results formatted alike",
        arguments: RuntimeUnderTest.allCases
    )
    func types(runtime: RuntimeUnderTest) async throws {
        let cases: [(String, [TaskInput], String?)] = [
            ("add_i32", [.integer(-1), .integer(4_294_967_295)], "-2"),
            ("add_i32", [.string("2147483647"), .integer(1)], "-2147483648"),
            ("negate_i64", [.integer(-9_223_372_036_854_775_807)], "9223372036854775807"),
            ("add_f32", [.number(1.5), .number(2.25)], "3.75"),
            ("add_f32", [.number(1e20), .integer(0)], "1e+20"),
            ("add_f64", [.number(0.1), .number(0.2)], "0.30000000000000004"),
            ("add_f64", [.integer(15), .integer(15)], "30.0"),
            ("add_f64", [.string("nan"), .integer(1)], "nan"),
            ("add_f64", [.string("-inf"), .integer(1)], "-inf"),
            ("nothing", [], nil),
        ]
        for (export, inputs, expected) in cases {
            let result = try await RuntimeHarness.call(runtime, "types", export, inputs)
            #expect(result.state == .completed, "\(export) \(inputs): \(result.error ?? "")")
            #expect(result.results == expected, "\(export) \(inputs)")
        }
    }

    @Test(
        "a trap fails the task with the trap's reason",
        arguments: RuntimeUnderTest.allCases
    )
    func traps(runtime: RuntimeUnderTest) async throws {
        let unreachable = try await RuntimeHarness.call(runtime, "trap", "trap")
        #expect(unreachable.state == .failed)
        #expect(unreachable.error == "wasm trap in \"trap\": unreachable")
        let divide = try await RuntimeHarness.call(runtime, "trap", "divide", [.integer(1), .integer(0)])
        #expect(divide.state == .failed)
        #expect(divide.error == "wasm trap in \"divide\": integer divide by zero")
    }

    @Test(
        "a missing export, a wrong input count and an unparsable input fail with WasmKit's messages",
        arguments: RuntimeUnderTest.allCases
    )
    func badCalls(runtime: RuntimeUnderTest) async throws {
        let missing = try await RuntimeHarness.call(runtime, "types", "multiply")
        #expect(missing.state == .failed)
        #expect(
            missing.error
                == "module has no exported function named \"multiply\" and no _start to run it as a WASI command; "
                + "exported functions: add_i32, add_f32, add_f64, negate_i64, nothing"
        )
        let count = try await RuntimeHarness.call(runtime, "add", "add", [.integer(1)])
        #expect(count.error == "export \"add\" takes 2 inputs (i64, i64), got 1: [1]")
        let unparsable = try await RuntimeHarness.call(runtime, "add", "add", [.integer(1), .string("abc")])
        #expect(unparsable.error?.contains("input 2 must be an i64") == true)
    }

    @Test("garbage bytes fail with \"invalid wasm module\"", arguments: RuntimeUnderTest.allCases)
    func garbage(runtime: RuntimeUnderTest) async throws {
        let garbage = (0..<256).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let result = try await RuntimeHarness.run(runtime, module: garbage, name: "add").result
        #expect(result.state == .failed)
        #expect(result.error?.hasPrefix("invalid wasm module: ") == true, "\(result.error ?? "")")
    }

    @Test(
        "a WASI command gets [name] + cli_args + inputs as argv and env, its stdout is the results",
        arguments: RuntimeUnderTest.allCases
    )
    func command(runtime: RuntimeUnderTest) async throws {
        let result = try await RuntimeHarness.run(
            runtime,
            module: Fixtures.wasm("echo"),
            name: "echo",
            inputs: [.string("x y"), .number(1.5)],
            env: ["GREETING": "hello world"],
            cliArgs: ["--flag", "value"]
        )
        .result
        #expect(result.state == .completed)
        #expect(result.exitCode == 0)
        #expect(result.results == "arg echo\narg --flag\narg value\narg x y\narg 1.5\nenv GREETING=hello world\n")
    }

    @Test(
        "a non-zero exit fails with the exit code and the tail of stderr, keeping stdout",
        arguments: RuntimeUnderTest.allCases
    )
    func nonZeroExit(runtime: RuntimeUnderTest) async throws {
        let result = try await RuntimeHarness.run(
            runtime,
            module: Fixtures.wasm("echo"),
            name: "echo",
            inputs: [.integer(7)]
        )
        .result
        #expect(result.state == .failed)
        #expect(result.exitCode == 7)
        #expect(result.error == "exited with code 7; stderr: echo: exiting with code 7\n")
        #expect(result.results == "arg echo\narg 7\n")
    }

    @Test("stdout beyond 1 MiB is cut with a note", arguments: RuntimeUnderTest.allCases)
    func stdoutCap(runtime: RuntimeUnderTest) async throws {
        let result = try await RuntimeHarness.run(runtime, module: Fixtures.wasm("flood"), name: "flood").result
        #expect(result.state == .completed)
        let results = try #require(result.results)
        #expect(results.utf8.count <= 1 << 20)
        #expect(results.utf8.count > (1 << 20) - 200)
        #expect(results.hasPrefix("xxxxxxxx"))
        #expect(results.hasSuffix("[stdout truncated: 2621440 bytes written, only the first 1048576 bytes are kept]"))
    }

    @Test("a daemon runs until stopped and is then reported stopped", arguments: RuntimeUnderTest.allCases)
    func daemonStop(runtime: RuntimeUnderTest) async throws {
        let run = try await RuntimeHarness.run(runtime, module: Fixtures.wasm("daemon"), name: "_start", daemon: true) {
            child in
            try await Task.sleep(for: .milliseconds(1500))
            #expect(ProcessTable.statusBytes(of: child.pid, field: "VmRSS") != nil, "the daemon still runs")
            child.signal(SIGTERM)
            return .requested
        }
        #expect(run.result.state == .stopped)
        #expect(run.exit?.termination == .signaled(signal: SIGTERM))
    }

    @Test(
        "a memory bomb under memory_bytes 64 MiB fails with the limit's message, peak RSS ≤ 70.4 MiB",
        arguments: RuntimeUnderTest.allCases
    )
    func memoryBomb(runtime: RuntimeUnderTest) async throws {
        let limit: Int64 = 64 << 20
        let highWater = HighWaterMark()
        let run = try await RuntimeHarness.run(
            runtime,
            module: Fixtures.wasm("bomb"),
            name: "bomb",
            limits: TaskLimits(memoryBytes: limit)
        ) { child in
            // The child's own peak (`VmHWM`): `wait4`'s `ru_maxrss` also counts the proplet's (here the test
            // runner's) RSS, because glibc's posix_spawn runs the child in the parent's memory until exec.
            // A zombie (or a reaped child) has no `VmHWM` any more: that ends the watch.
            while let peak = ProcessTable.statusBytes(of: child.pid, field: "VmHWM") {
                highWater.raise(to: peak)
                try await Task.sleep(for: .milliseconds(2))
            }
            return nil
        }
        #expect(run.result.state == .failed)
        #expect(run.result.error == "memory limit of 67108864 bytes exceeded")
        let peak = highWater.value
        #expect(peak <= limit + limit / 10, "peak RSS \(peak) bytes")
        // It did grow: most of the limit was in use before the grow that was refused.
        #expect(peak >= limit / 2, "peak RSS \(peak) bytes")
    }

    @Test("a module declaring more memory than the limit fails at instantiation", arguments: RuntimeUnderTest.allCases)
    func initialMemoryOverLimit(runtime: RuntimeUnderTest) async throws {
        let module = try Fixtures.wasm(text: #"(module (memory 2048) (func (export "run")))"#)
        let result = try await RuntimeHarness.run(
            runtime,
            module: module,
            name: "run",
            limits: TaskLimits(memoryBytes: 64 << 20)
        )
        .result
        #expect(result.state == .failed)
        #expect(result.error == "memory limit of 67108864 bytes exceeded")
    }

    @Test("an endless loop under cpu_seconds 1 is ended by RLIMIT_CPU", arguments: RuntimeUnderTest.allCases)
    func cpuLimit(runtime: RuntimeUnderTest) async throws {
        let run = try await RuntimeHarness.run(
            runtime,
            module: Fixtures.wasm("burn"),
            name: "burn",
            inputs: [.integer(3_600_000)],
            limits: TaskLimits(cpuSeconds: 1)
        )
        #expect(run.result.state == .failed)
        #expect(run.result.error == "cpu limit of 1 seconds exceeded")
        let cpu = try #require(run.exit?.cpuSeconds)
        #expect(cpu >= 0.5 && cpu < 3, "cpu seconds \(cpu)")
        print("cpu limit 1 s, \(runtime): rusage CPU \(cpu) s")
    }
}

/// The highest value seen, shared between a polling closure and the test.
final class HighWaterMark: Sendable {
    private let state = Mutex<Int64>(0)

    /// The highest value so far.
    var value: Int64 { state.withLock { $0 } }

    /// Raises the mark to `candidate` if it is higher.
    func raise(to candidate: Int64) { state.withLock { $0 = max($0, candidate) } }
}
