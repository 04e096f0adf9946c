import Foundation
import PropellerCore
import PropellerRegistry
import PropellerTestSupport
import Testing

@testable import PropellerProplet

#if canImport(Glibc)
import Glibc
#endif

/// SPEC §5 "Runtimes": with Wasmtime, a module is compiled ahead of time (`wasmtime compile`) once per
/// digest into the state directory and every task of it runs the compiled file.
@Suite("Wasmtime runtime: modules compiled once per digest into the state directory")
struct WasmtimeCacheTests {
    @Test("a module is compiled once to <state>/wasmtime/<version>/<digest>.cwasm and its tasks run that file")
    func compiledOncePerDigest() async throws {
        let state = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let runtime = try #require(try await RuntimeUnderTest.wasmtime.make(stateDirectory: state) as? WasmtimeRuntime)
        let add = try Fixtures.wasm("add")
        #expect(runtime.version.first?.isNumber == true, "version \(runtime.version)")
        let cache = "\(state)/wasmtime/\(runtime.version)"
        #expect(runtime.cacheDirectory == cache)

        let first = try await Self.launch(runtime, module: add, inputs: [1, 2], state: state)
        let compiled = "\(cache)/\(SHA256.hex(of: add)).cwasm"
        #expect(first.arguments.starts(with: ["run", "--allow-precompiled"]))
        #expect(first.arguments.contains(compiled), "\(first.arguments)")
        #expect(!first.arguments.contains { $0.hasSuffix(".wasm") }, "the task runs the compiled file, not the module")
        #expect(first.results == "3")
        let before = try Self.identity(of: compiled)

        // Another task of the same module: the compiled file is reused, not compiled again.
        let second = try await Self.launch(runtime, module: add, inputs: [40, 2], state: state)
        #expect(second.arguments.contains(compiled))
        #expect(second.results == "42")
        #expect(try Self.identity(of: compiled) == before, "the module was compiled again")

        // A module with another digest gets a compiled file of its own.
        let other = add + [0, 4, 3] + Array("new".utf8)
        let third = try await Self.launch(runtime, module: other, inputs: [2, 2], state: state)
        #expect(third.arguments.contains("\(cache)/\(SHA256.hex(of: other)).cwasm"))
        #expect(third.results == "4")
        #expect(
            try Self.entries(of: cache) == ["\(SHA256.hex(of: add)).cwasm", "\(SHA256.hex(of: other)).cwasm"].sorted()
        )
    }

    @Test("concurrent first tasks of one module leave one compiled file and no temporary file")
    func concurrentFirstTasks() async throws {
        let state = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let runtime = try #require(try await RuntimeUnderTest.wasmtime.make(stateDirectory: state) as? WasmtimeRuntime)
        let add = try Fixtures.wasm("add")
        let results = try await withThrowingTaskGroup(of: String?.self) { group in
            for index in 0..<4 {
                group.addTask { try await Self.launch(runtime, module: add, inputs: [index, 1], state: state).results }
            }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(Set(results) == ["1", "2", "3", "4"])
        #expect(try Self.entries(of: runtime.cacheDirectory) == ["\(SHA256.hex(of: add)).cwasm"])
    }

    /// One task through the runtime, as `TaskSupervisor` runs it: its process's arguments and results.
    private static func launch(
        _ runtime: WasmtimeRuntime,
        module: [UInt8],
        inputs: [Int],
        state: String
    ) async throws -> (arguments: [String], results: String?) {
        let command = StartCommand(
            id: "task-\(UUID().uuidString.prefix(8).lowercased())",
            name: "add",
            propletID: "p",
            file: Data(module).base64EncodedString(),
            inputs: inputs.map { .integer(Int64($0)) },
            monitoringProfile: .standard
        )
        let files = try TaskFiles.write(command, into: state + "/tasks")
        defer { files.remove() }
        let launch = try await runtime.launch(
            files.job,
            jobPath: files.jobPath,
            module: files.module,
            digest: files.digest
        )
        guard case .process(let plan) = launch else {
            Issue.record("no process planned: \(launch)")
            return ([], nil)
        }
        let child = try PropellerProplet.ChildProcess.spawn(
            executable: plan.executable,
            arguments: plan.arguments,
            environment: plan.environment,
            stdoutRetention: plan.stdoutRetention
        )
        let exit = await child.waitForExit()
        let result = RunnerResultInterpreter.result(
            of: exit,
            outcome: plan.outcome(exit),
            stopReason: nil,
            limits: .none
        )
        #expect(result.state == .completed, "\(result.error ?? "")")
        return (plan.arguments, result.results)
    }

    /// Inode and modification time: a file compiled again (written and renamed into place) changes both.
    private static func identity(of path: String) throws -> [Int] {
        var status = stat()
        guard stat(path, &status) == 0 else { throw CocoaError(.fileNoSuchFile) }
        return [Int(status.st_ino), Int(status.st_mtim.tv_sec), Int(status.st_mtim.tv_nsec)]
    }

    private static func entries(of directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    private static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wasmtime-cache-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
