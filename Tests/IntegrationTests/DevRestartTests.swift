import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `make run` twice in a row: `propeller dev --demo` stopped with SIGINT (what Ctrl-C sends to the
/// foreground process group) and started again at once on the same ports and data directory.
@Suite("propeller dev restarts", .serialized)
struct DevRestartTests {
    @Test("Ctrl-C records the demo task stopped, leaves no process, and a second run within 5 s reuses both ports")
    func twiceInARow() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("dev-restart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dataDir) }
        let httpPort = try LoopbackPort.free()
        let mqttPort = try LoopbackPort.free()
        var previous: String?
        for run in 1...2 {
            let started = ContinuousClock.now
            let (process, output) = try launch(dataDir: dataDir, httpPort: httpPort, mqttPort: mqttPort, run: run)
            let id = try await waitForFirstSample(process, output)
            if run == 2 {
                let (_, task) = try await get("http://127.0.0.1:\(httpPort)/tasks/\(previous ?? "")")
                #expect(task["state"]?.stringValue == "stopped", "the first run's demo task: \(task)")
            }
            #expect(ContinuousClock.now - started < .seconds(60))
            let children = descendants(of: process.processIdentifier)
            kill(process.processIdentifier, SIGINT)
            let deadline = ContinuousClock.now + .seconds(20)
            while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!process.isRunning, "propeller dev exits after SIGINT")
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            #expect(text.contains("demo task \(id) stopped"), "\(text)")
            try await Task.sleep(for: .milliseconds(200))
            #expect(children.filter(isAlive).isEmpty, "no process of run \(run) is left: \(children.filter(isAlive))")
            previous = id
        }
    }

    private func launch(dataDir: URL, httpPort: Int, mqttPort: Int, run: Int) throws -> (Process, URL) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BinaryLocator.path(of: "propeller"))
        process.arguments = [
            "dev", "--demo", "--http-port", String(httpPort), "--mqtt-port", String(mqttPort), "--data-dir",
            dataDir.path,
        ]
        process.currentDirectoryURL = repositoryRoot
        let output = dataDir.appendingPathComponent("run-\(run).out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: output)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    /// Waits for the first printed sample; returns the demo task's id.
    private func waitForFirstSample(_ process: Process, _ output: URL) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            guard process.isRunning else { throw HarnessError("propeller dev exited:\n\(text)") }
            if let line = text.split(separator: "\n").first(where: {
                $0.hasPrefix("demo task ") && $0.contains(" started")
            }),
                text.contains("  cpu ")
            {
                return String(line.split(separator: " ")[2])
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("no sample printed within 60 s")
    }

    private func get(_ url: String) async throws -> (Int, JSONValue) {
        let response = try await HTTPTestClient.request(URL(string: url)!)
        return (response.status, (try? JSONDecoder().decode(JSONValue.self, from: response.body)) ?? .null)
    }
}
