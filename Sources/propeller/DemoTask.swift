import Foundation
import PropellerCore

/// The `--demo` task: create and start the example module under the `intensive` profile, then print
/// each new sample as it is stored, until Ctrl-C.
struct DemoTask {
    let client: ManagerAPIClient
    let modulePath: String

    func run(until signals: ShutdownSignals) async throws {
        guard FileManager.default.fileExists(atPath: modulePath) else {
            throw CLIError(
                description: "demo module \(modulePath) not found; run from the repository root or pass --demo-module"
            )
        }
        let task = try await client.fetch(
            WasmTask.self,
            "POST",
            "tasks",
            body: .object([
                "name": .string("_start"),
                "file": .string(try ModuleFile.base64(path: modulePath)),
                "daemon": .bool(true),
                "monitoring_profile": .string("intensive"),
            ])
        )
        let id = task.id
        say("demo task \(id) created; waiting for the proplet to register…")
        try await startWhenAPropletIsLive(id, signals: signals)
        say("demo task \(id) started (profile intensive); samples as they arrive:")
        var lastTimestamp: Timestamp?
        while !(await signals.wait(for: .milliseconds(250))) {
            guard
                let page = try? await client.fetch(
                    TaskMetricsPage.self,
                    "GET",
                    "tasks/\(id)/metrics",
                    query: ["order": "desc", "limit": "5"]
                )
            else { continue }
            let fresh = page.metrics.reversed().filter { sample in lastTimestamp.map { sample.timestamp > $0 } ?? true }
            for sample in fresh {
                lastTimestamp = sample.timestamp
                let metrics = sample.metrics
                let cpu = metrics.cpuPercent.map { String(format: "%5.1f", $0) } ?? "-"
                say(
                    "\(sample.timestamp.rfc3339)  cpu \(cpu)%  memory \(Table.bytes(metrics.memoryBytes.map(Double.init)))"
                        + "  threads \(metrics.threadCount.map(String.init) ?? "-")"
                        + "  fds \(metrics.fileDescriptorCount.map(String.init) ?? "-")"
                        + "  uptime \(metrics.uptimeSeconds.map(String.init) ?? "-")s"
                        + "  samples \(sample.aggregated.map { String($0.sampleCount) } ?? "-")"
                )
            }
        }
        _ = try? await client.send("POST", "tasks/\(id)/stop", body: .object([:]))
        // Wait for the proplet's result, so the demo task is recorded `stopped` before the stack stops.
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if let task = try? await client.fetch(WasmTask.self, "GET", "tasks/\(id)"), task.state != .running {
                say("demo task \(id) \(task.state.rawValue)")
                return
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The proplet registers a moment after the manager is up: retry the start while it answers 503.
    private func startWhenAPropletIsLive(_ id: String, signals: ShutdownSignals) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                try await client.send("POST", "tasks/\(id)/start", body: .object([:]))
                return
            } catch let error as CLIError where error.description.contains("HTTP 503") {
                guard ContinuousClock.now < deadline else { throw error }
                if await signals.wait(for: .milliseconds(100)) { throw CLIError(description: "interrupted") }
            }
        }
    }
}
