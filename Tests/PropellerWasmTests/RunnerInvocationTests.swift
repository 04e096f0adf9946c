import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

/// How `propeller-wasm` reports problems with its own invocation.
@Suite("propeller-wasm: invocation")
struct RunnerInvocationTests {
    private func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("propeller-wasm-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("a missing module file fails naming the path and the system's reason")
    func missingModule() async throws {
        let job = RunnerJob(modulePath: "/nonexistent/propeller/task.wasm", name: "add")
        let outcome = try await RunnerHarness(module: [], job: job, keepModulePath: true).finish().outcome()
        #expect(outcome.state == .failed)
        #expect(outcome.error == "cannot read module file /nonexistent/propeller/task.wasm: No such file or directory")
    }

    @Test("a job file that is not a RunnerJob is reported as a failed outcome naming the field")
    func invalidJob() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let jobPath = directory.appendingPathComponent("job.json")
        try Data(#"{"module_path": 1, "name": "add"}"#.utf8).write(to: jobPath)
        let finished = try await RunnerHarness(directory: directory, arguments: [jobPath.path]).finish()
        #expect(finished.status == 0)
        let outcome = try finished.outcome()
        #expect(outcome.state == .failed)
        #expect(outcome.error?.contains("module_path") == true)
    }

    @Test("a job file that does not exist is reported as a failed outcome")
    func missingJob() async throws {
        let directory = try scratch()
        let path = directory.appendingPathComponent("absent.json").path
        let outcome = try await RunnerHarness(directory: directory, arguments: [path]).finish().outcome()
        #expect(
            outcome == RunnerOutcome(state: .failed, error: "cannot read runner job \(path): No such file or directory")
        )
        try? FileManager.default.removeItem(at: directory)
    }

    @Test("without a job file argument the runner prints usage to stderr and exits 2")
    func usage() async throws {
        let directory = try scratch()
        let finished = try await RunnerHarness(directory: directory, arguments: []).finish()
        try? FileManager.default.removeItem(at: directory)
        #expect(finished.status == 2)
        #expect(finished.stdout.isEmpty)
        #expect(finished.stderr.hasPrefix("usage: propeller-wasm JOB_FILE"))
    }

    @Test("the job written by WireCoding round-trips through the runner's decoder")
    func jobWireFormat() throws {
        let job = RunnerJob(
            modulePath: "/tmp/x.wasm",
            name: "add",
            inputs: [.integer(1), .number(2.5), .string("3")],
            env: ["A": "b"],
            cliArgs: ["-v"],
            daemon: true
        )
        let decoded = try WireCoding.decode(RunnerJob.self, from: try WireCoding.encode(job))
        #expect(decoded == job)
    }
}
