import Foundation
import PropellerCore
import PropellerLauncher
import PropellerTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `make run` twice in a row: `propeller dev --demo` stopped with SIGINT to its process group (what
/// Ctrl-C does) and started again at once on the same ports and data directory.
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
            let (process, output) = try await launch(
                dataDir: dataDir,
                httpPort: httpPort,
                mqttPort: mqttPort,
                run: run
            )
            let id = try await waitForFirstSample(process, output)
            if run == 2 {
                let (_, task) = try await get("http://127.0.0.1:\(httpPort)/tasks/\(previous ?? "")")
                #expect(task["state"]?.stringValue == "stopped", "the first run's demo task: \(task)")
            }
            #expect(ContinuousClock.now - started < .seconds(60))
            // The dev process is the one launched, and its command line names this data directory.
            let dev = process.processIdentifier
            #expect(Self.devProcess(dataDir: dataDir) == dev, "propeller dev on \(dataDir.path) is the launched pid")
            let children = descendants(of: dev)
            process.sendToGroup(SIGINT)  // Ctrl-C: the foreground process group
            let status = await process.waitForExit(timeout: .seconds(30))
            #expect(status != nil, "propeller dev exits after SIGINT")
            if status == nil { await process.terminate() }
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            #expect(text.contains("demo task \(id) stopped"), "\(text)")
            try await Task.sleep(for: .milliseconds(200))
            #expect(children.filter(isAlive).isEmpty, "no process of run \(run) is left: \(children.filter(isAlive))")
            previous = id
        }
    }

    /// The pid of `propeller dev` running on `dataDir`, from /proc.
    static func devProcess(dataDir: URL) -> Int32? {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
        for pid in pids {
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if arguments.contains("dev") && arguments.contains(dataDir.path)
                && arguments.first?.hasSuffix("propeller") == true
            {
                return pid
            }
        }
        return nil
    }

    private func launch(dataDir: URL, httpPort: Int, mqttPort: Int, run: Int) async throws -> (LaunchedProcess, URL) {
        let output = dataDir.appendingPathComponent("run-\(run).out")
        // In a process group of its own, like a shell's foreground job, so the test can send SIGINT to the
        // whole group as a terminal's Ctrl-C does.
        let process = try await ProcessLauncher.launch(
            BinaryLocator.path(of: "propeller"),
            arguments: [
                "dev", "--demo", "--http-port", String(httpPort), "--mqtt-port", String(mqttPort), "--data-dir",
                dataDir.path,
            ],
            workingDirectory: repositoryRoot.path,
            output: .file(output.path),
            ownProcessGroup: true
        )
        return (process, output)
    }

    /// Waits for the first printed sample; returns the demo task's id.
    private func waitForFirstSample(_ process: LaunchedProcess, _ output: URL) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if text.contains("error:") { throw HarnessError("propeller dev failed:\n\(text)") }
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
