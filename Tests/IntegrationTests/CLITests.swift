import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

@Suite("The propeller CLI against a live propeller dev", .timeLimit(.minutes(5)))
struct CLITests {
    /// Runs `propeller ARGS --manager-url URL`.
    private func cli(_ arguments: [String], _ stack: DevStack) async throws -> CommandResult {
        try await runCommand(
            BinaryLocator.path(of: "propeller"),
            arguments + ["--manager-url", stack.managerURL],
            directory: repositoryRoot,
            timeout: .seconds(60)
        )
    }

    @Test("every task and proplet subcommand works, and fails with one line and a non-zero code")
    func subcommands() async throws {
        try await withDevStack { stack in
            // create + start → results
            let created = try await cli(
                ["task", "create", "Examples/add.wat", "--name", "add", "--input", "10", "--input", "20"],
                stack
            )
            #expect(created.status == 0, "\(created.stderr)")
            let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(UUID(uuidString: id) != nil, "create printed \(created.stdout)")
            let started = try await cli(["task", "start", id], stack)
            #expect(started.status == 0, "\(started.stderr)")
            #expect(started.stdout.contains("running"))
            var results = CommandResult(status: -1, stdout: "", stderr: "")
            for _ in 0..<50 {
                results = try await cli(["task", "results", id], stack)
                if results.stdout.contains("completed") { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(results.status == 0)
            #expect(results.stdout.contains("\"30\""), "\(results.stdout)")
            let got = try await cli(["task", "get", id], stack)
            #expect(got.status == 0 && got.stdout.contains("\"state\" : \"completed\""), "\(got.stdout)")
            let listed = try await cli(["task", "list"], stack)
            #expect(listed.status == 0 && listed.stdout.contains(id))
            let metrics = try await cli(["task", "metrics", id], stack)
            #expect(metrics.status == 0 && metrics.stdout.contains("CPU%"), "\(metrics.stdout)\(metrics.stderr)")
            let metricsJSON = try await cli(["task", "metrics", id, "--json"], stack)
            #expect(metricsJSON.status == 0 && metricsJSON.stdout.contains("\"task_id\""))
            let watched = try await cli(["task", "watch", id, "--count", "1"], stack)
            #expect(watched.status == 0 && watched.stdout.contains("cpu %"), "\(watched.stdout)\(watched.stderr)")
            #expect(watched.stdout.contains("last sample at "), "the last stored sample is shown: \(watched.stdout)")

            // a daemon: start with the profile flag, stop it, delete it
            let daemon = try await cli(
                [
                    "task", "create", "Examples/demo.wat", "--name", "_start", "--daemon", "--profile", "intensive",
                    "--label", "team=edge", "--start",
                ],
                stack
            )
            #expect(daemon.status == 0, "\(daemon.stderr)")
            let daemonID = daemon.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let (_, daemonTask) = try await stack.request("GET", "/tasks/\(daemonID)")
            #expect(try daemonTask.decoded(as: WasmTask.self).labels == ["team": "edge"])
            // A running daemon's watch says when its next sample is due.
            var dueLine = ""
            for _ in 0..<50 where !dueLine.contains("next due") {
                dueLine = try await cli(["task", "watch", daemonID, "--count", "1"], stack).stdout
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(dueLine.contains("next due") && dueLine.contains("(every 1 s)"), "\(dueLine)")
            let busy = try await cli(["task", "delete", daemonID], stack)
            #expect(busy.status != 0 && busy.stderr.hasPrefix("error: "))
            let stopped = try await cli(["task", "stop", daemonID], stack)
            #expect(stopped.status == 0, "\(stopped.stderr)")
            // It prints the state the task ends in, not the `running` of the moment the stop was sent.
            #expect(stopped.stdout == "\(daemonID) stopped\n", "\(stopped.stdout)")
            let deleted = try await cli(["task", "delete", daemonID], stack)
            #expect(deleted.status == 0, "\(deleted.stderr)")

            // proplets
            let proplets = try await cli(["proplet", "list"], stack)
            #expect(proplets.status == 0 && proplets.stdout.contains("true"), "\(proplets.stdout)\(proplets.stderr)")
            let (_, page) = try await stack.request("GET", "/proplets")
            let propletID = try #require(try page.decoded(as: PropletPage.self).proplets.first?.id)
            let proplet = try await cli(["proplet", "get", propletID], stack)
            #expect(proplet.status == 0 && proplet.stdout.contains(propletID))
            let propletMetrics = try await cli(["proplet", "metrics", propletID], stack)
            #expect(propletMetrics.status == 0 && propletMetrics.stdout.contains("HOST CPU%"))

            // error paths: unknown id, bad file, not a module, bad profile
            let unknown = try await cli(["task", "get", "00000000-0000-0000-0000-000000000000"], stack)
            #expect(unknown.status != 0)
            #expect(unknown.stderr.split(separator: "\n").count == 1 && unknown.stderr.hasPrefix("error: "))
            let missingFile = try await cli(["task", "create", "/nonexistent.wasm", "--name", "add"], stack)
            #expect(missingFile.status != 0 && missingFile.stderr.contains("/nonexistent.wasm"))
            let notWasm = try await cli(["task", "create", "README.md", "--name", "add"], stack)
            #expect(notWasm.status != 0 && notWasm.stderr.contains("not a WebAssembly module"))
            let badProfile = try await cli(
                ["task", "create", "Examples/add.wat", "--name", "add", "--profile", "turbo"],
                stack
            )
            #expect(badProfile.status != 0 && badProfile.stderr.contains("turbo"))
            let unknownProplet = try await cli(["proplet", "get", "no-such-proplet"], stack)
            #expect(unknownProplet.status != 0 && unknownProplet.stderr.hasPrefix("error: "))
        }
    }

    @Test("task create --limit-memory 64MiB --limit-cpu 10s --timeout 30s sets limits GET /tasks/{id} returns")
    func limits() async throws {
        try await withDevStack { stack in
            let created = try await cli(
                [
                    "task", "create", "Examples/add.wat", "--name", "add", "--input", "1", "--input", "2",
                    "--limit-memory", "64MiB", "--limit-cpu", "10s", "--timeout", "30s",
                ],
                stack
            )
            #expect(created.status == 0, "\(created.stderr)")
            let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let got = try await cli(["task", "get", id], stack)
            #expect(got.status == 0)
            let task = try WireCoding.decode(WasmTask.self, from: Data(got.stdout.utf8))
            #expect(task.limits == TaskLimits(memoryBytes: 64 << 20, cpuSeconds: 10, timeoutSeconds: 30))
            let bad = try await cli(
                ["task", "create", "Examples/add.wat", "--name", "add", "--limit-memory", "lots"],
                stack
            )
            #expect(bad.status != 0 && bad.stderr.contains("--limit-memory") && bad.stderr.contains("lots"))
            let tooSmall = try await cli(
                ["task", "create", "Examples/add.wat", "--name", "add", "--limit-memory", "1KiB"],
                stack
            )
            #expect(tooSmall.status != 0 && tooSmall.stderr.contains("limits.memory_bytes"), "\(tooSmall.stderr)")
        }
    }

    @Test("create --start without a live proplet deletes the task it created and says so in one line")
    func failedStartCleansUp() async throws {
        let port = try LoopbackPort.free()
        let environment = ["MANAGER_STORAGE": "memory", "PROPELLER_MQTT_URL": "mqtt://127.0.0.1:\(port)"]
        try await withManager(environment: environment) { url in
            let result = try await runCommand(
                BinaryLocator.path(of: "propeller"),
                [
                    "task", "create", "Examples/add.wat", "--name", "add", "--start", "--manager-url",
                    url.absoluteString,
                ],
                directory: repositoryRoot,
                timeout: .seconds(60)
            )
            #expect(result.status != 0 && result.stdout.isEmpty, "\(result.stdout)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(result.stderr.contains("HTTP 503") && result.stderr.contains("deleted again"), "\(result.stderr)")
            let page = try await HTTPTestClient.request(url.appendingPathComponent("tasks"))
            #expect(try WireCoding.decode(TaskPage.self, from: page.body).total == 0, "nothing is left behind")
        }
    }

    @Test("a manager that is down gives a one-line error and a non-zero exit code")
    func managerDown() async throws {
        let port = try LoopbackPort.free()
        for arguments in [["task", "list"], ["proplet", "list"], ["task", "get", "x"]] {
            let result = try await runCommand(
                BinaryLocator.path(of: "propeller"),
                arguments + ["--manager-url", "http://127.0.0.1:\(port)"]
            )
            #expect(result.status != 0)
            #expect(result.stderr.contains("cannot reach the manager"), "\(result.stderr)")
            #expect(result.stderr.contains("nothing accepts connections there"), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
    }
}
