import PropellerCore
import PropellerTestSupport
import Testing

/// Core exports of WASI reactors and exports that exit.
@Suite("propeller-wasm: reactors and proc_exit")
struct RunnerReactorTests {
    @Test("a reactor's _initialize runs before the export is called")
    func reactorInitialized() async throws {
        let module = try Fixtures.wasm(
            text: #"""
                (module
                  (memory (export "memory") 1)
                  (global $ready (mut i32) (i32.const 0))
                  (func (export "_initialize") (global.set $ready (i32.const 42)))
                  (func (export "ready") (result i32) (global.get $ready)))
                """#
        )
        let outcome = try await RunnerHarness.outcome(of: module, RunnerJob(modulePath: "", name: "ready"))
        #expect(outcome == RunnerOutcome(state: .completed, results: "42"))
    }

    @Test("an export calling proc_exit with a non-zero code fails with that exit code")
    func exportExits() async throws {
        let module = try Fixtures.wasm(
            text: #"""
                (module
                  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
                  (memory (export "memory") 1)
                  (func (export "quit") (param i32) (call $exit (local.get 0))))
                """#
        )
        let failed = try await RunnerHarness.outcome(
            of: module,
            RunnerJob(modulePath: "", name: "quit", inputs: [.integer(3)])
        )
        #expect(
            failed == RunnerOutcome(state: .failed, error: "export \"quit\" called proc_exit with code 3", exitCode: 3)
        )
        let completed = try await RunnerHarness.outcome(
            of: module,
            RunnerJob(modulePath: "", name: "quit", inputs: [.integer(0)])
        )
        #expect(completed == RunnerOutcome(state: .completed, exitCode: 0))
    }
}
