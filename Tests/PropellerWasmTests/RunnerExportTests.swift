import PropellerCore
import PropellerTestSupport
import Testing

/// The `propeller-wasm` binary calling core exports (SPEC §5, first bullet), one real process per test.
@Suite("propeller-wasm: core exports")
struct RunnerExportTests {
    @Test("add with inputs [10, 20] completes with results \"30\"")
    func addCompletes() async throws {
        let outcome = try await RunnerHarness.call("add", "add", [.integer(10), .integer(20)])
        #expect(outcome == RunnerOutcome(state: .completed, results: "30"))
    }

    @Test("numeric strings and whole-valued numbers are accepted as integer inputs")
    func numericStrings() async throws {
        let outcome = try await RunnerHarness.call("add", "add", [.string(" -7 "), .number(3.0)])
        #expect(outcome.state == .completed)
        #expect(outcome.results == "-4")
    }

    @Test(
        "each number type is converted in and formatted out",
        arguments: [
            ("add_i32", [TaskInput.integer(-5), .integer(2)], "-3"),
            ("add_i32", [.integer(4_294_967_295), .integer(0)], "-1"),
            ("add_f32", [.number(0.1), .number(0.2)], "0.3"),
            ("add_f64", [.number(1.5), .string("2.25")], "3.75"),
            ("add_f64", [.number(0.1), .number(0.2)], "0.30000000000000004"),
            ("add_f64", [.string("inf"), .integer(1)], "inf"),
            ("negate_i64", [.string("9223372036854775807")], "-9223372036854775807"),
        ]
    )
    func numberTypes(export: String, inputs: [TaskInput], expected: String) async throws {
        let outcome = try await RunnerHarness.call("types", export, inputs)
        #expect(outcome == RunnerOutcome(state: .completed, results: expected))
    }

    @Test("an export without results completes with null results")
    func noResults() async throws {
        let outcome = try await RunnerHarness.call("types", "nothing")
        #expect(outcome == RunnerOutcome(state: .completed, results: nil))
    }

    @Test("three inputs for a two-parameter export fail naming the export, the types and the inputs")
    func wrongInputCount() async throws {
        let outcome = try await RunnerHarness.call("add", "add", [.integer(1), .integer(2), .integer(3)])
        #expect(outcome.state == .failed)
        let error = try #require(outcome.error)
        #expect(error.contains("\"add\""))
        #expect(error.contains("takes 2 inputs (i64, i64)"))
        #expect(error.contains("got 3: [1, 2, 3]"))
        #expect(outcome.results == nil)
    }

    @Test("an unparsable input fails naming its position, the expected type and the value")
    func unparsableInput() async throws {
        let outcome = try await RunnerHarness.call("add", "add", [.integer(1), .string("abc")])
        #expect(outcome.state == .failed)
        let error = try #require(outcome.error)
        #expect(error.contains("\"add\" (i64, i64)"))
        #expect(error.contains("input 2 must be an i64"))
        #expect(error.contains("got \"abc\""))
    }

    @Test(
        "a trap fails the task with the trap reason",
        arguments: [
            ("trap", [TaskInput](), "unreachable"),
            ("divide", [.integer(1), .integer(0)], "integer divide by zero"),
        ]
    )
    func trapFails(export: String, inputs: [TaskInput], reason: String) async throws {
        let outcome = try await RunnerHarness.call("trap", export, inputs)
        #expect(outcome.state == .failed)
        #expect(outcome.error == "wasm trap in \"\(export)\": \(reason)")
    }

    @Test("a missing export in a module without _start fails naming it and listing the exports")
    func missingExport() async throws {
        let outcome = try await RunnerHarness.call("types", "multiply")
        #expect(outcome.state == .failed)
        let error = try #require(outcome.error)
        #expect(error.contains("no exported function named \"multiply\""))
        #expect(error.contains("add_i32, add_f32, add_f64, negate_i64, nothing"))
    }

    @Test("garbage bytes fail with \"invalid wasm module\"")
    func garbageModule() async throws {
        var generator = SystemRandomNumberGenerator()
        let garbage = (0..<256).map { _ in UInt8.random(in: 1...255, using: &generator) }
        let outcome = try await RunnerHarness.outcome(of: garbage, RunnerJob(modulePath: "", name: "add"))
        #expect(outcome.state == .failed)
        let error = try #require(outcome.error)
        #expect(error.hasPrefix("invalid wasm module: "))
    }

    @Test("a truncated module fails with \"invalid wasm module\"")
    func truncatedModule() async throws {
        let bytes = try Fixtures.wasm("add")
        let outcome = try await RunnerHarness.outcome(
            of: Array(bytes.dropLast(3)),
            RunnerJob(modulePath: "", name: "add")
        )
        #expect(outcome.state == .failed)
        #expect(outcome.error?.hasPrefix("invalid wasm module: ") == true)
    }

    @Test("a module importing something other than WASI fails to instantiate with the import's name")
    func unresolvedImport() async throws {
        let module = try Fixtures.wasm(text: #"(module (import "env" "host_fn" (func)) (func (export "run")))"#)
        let outcome = try await RunnerHarness.outcome(of: module, RunnerJob(modulePath: "", name: "run"))
        #expect(outcome.state == .failed)
        let error = try #require(outcome.error)
        #expect(error.hasPrefix("cannot instantiate wasm module: "))
        #expect(error.contains("host_fn"))
    }

    @Test("burn spins for the given time and reports how many iterations it ran")
    func burnRuns() async throws {
        let outcome = try await RunnerHarness.call("burn", "burn", [.integer(200)])
        #expect(outcome.state == .completed)
        let iterations = try #require(outcome.results.flatMap { Int($0) })
        #expect(iterations > 0)
    }
}
