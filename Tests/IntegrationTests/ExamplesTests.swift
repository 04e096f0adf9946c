import Foundation
import PropellerCore
import PropellerTestSupport
import Testing
import WAT

@Suite("Examples/")
struct ExamplesTests {
    /// Runs a module through the real per-task runner and returns its outcome.
    private func run(_ module: [UInt8], name: String, inputs: [TaskInput]) async throws -> RunnerOutcome {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("examples-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let modulePath = directory.appendingPathComponent("module.wasm")
        try Data(module).write(to: modulePath)
        let jobPath = directory.appendingPathComponent("job.json")
        try WireCoding.encode(RunnerJob(modulePath: modulePath.path, name: name, inputs: inputs)).write(to: jobPath)
        let result = try await runCommand(BinaryLocator.path(of: "propeller-wasm"), [jobPath.path])
        return try WireCoding.decode(RunnerOutcome.self, from: Data(result.stdout.utf8))
    }

    @Test("add.wat adds")
    func add() async throws {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("Examples/add.wat"), encoding: .utf8)
        let outcome = try await run(try wat2wasm(text), name: "add", inputs: [.integer(40), .integer(2)])
        #expect(outcome.state == .completed && outcome.results == "42")
    }

    @Test("fib.c builds with the command in its header and computes fib(50)")
    func fibFromC() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fib-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("fib.wasm").path
        let build = try await runCommand(
            "/usr/bin/env",
            ["clang", "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", "-o", output, "Examples/fib.c"],
            directory: repositoryRoot
        )
        #expect(build.status == 0, "\(build.stderr)")
        let module = try #require(FileManager.default.contents(atPath: output))
        let outcome = try await run(Array(module), name: "fib", inputs: [.integer(50)])
        #expect(outcome.state == .completed && outcome.results == "12586269025", "\(outcome)")
    }
}
