import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The manager's `/metrics` as a real Prometheus sees it, and the Grafana dashboard's queries run
/// against that Prometheus: a `propeller dev` stack runs the demo daemon under the intensive profile,
/// Debian's `prometheus` scrapes the manager every second.
@Suite("Prometheus server and Grafana dashboard", .serialized)
struct PrometheusScrapeTests {
    @Test("promtool accepts /metrics; Prometheus stores per-task series; every dashboard query returns data")
    func scrapeAndDashboard() async throws {
        try #require(PrometheusServer.isInstalled, "Debian's prometheus is not installed (make test installs it)")
        try await withDevStack { stack in
            let id = try await startDemoTask(stack)
            let propletID = try await waitForSamples(stack, id, count: 2)

            let exposition = try await managerText(stack, "/metrics")
            let lint = try await runPromtool(["check", "metrics"], stdin: exposition)
            #expect(
                lint.status == 0 && lint.stdout.isEmpty && lint.stderr.isEmpty,
                "promtool: \(lint.stdout)\(lint.stderr)"
            )
            #expect(exposition.contains("propeller_task_cpu_seconds_total{task_id=\"\(id)\""), "\(exposition)")

            let target = String(stack.managerURL.dropFirst("http://".count))
            try await PrometheusServer.with(scraping: target) { prometheus in
                let selector = #"{task_id="\#(id)"}"#
                let perTask = [
                    "propeller_task_info", "propeller_task_cpu_percent", "propeller_task_cpu_seconds_total",
                    "propeller_task_memory_bytes", "propeller_task_disk_read_bytes_total",
                    "propeller_task_disk_write_bytes_total", "propeller_task_threads",
                    "propeller_task_file_descriptors",
                ]
                for name in perTask {
                    let result = try await eventually("\(name)\(selector)", prometheus)
                    let labels = result.first?["metric"]
                    #expect(labels?["proplet_id"]?.stringValue == propletID, "\(name): \(result)")
                    #expect(labels?["task_name"]?.stringValue == "_start", "\(name): \(result)")
                }
                let build = try await eventually("propeller_build_info", prometheus)
                #expect(build.first?["metric"]?["version"]?.stringValue == PropellerVersion.current)
                _ = try await eventually("process_resident_memory_bytes", prometheus)
                let memory = try await eventually("propeller_task_memory_bytes\(selector)", prometheus)
                let bytes = Double(memory.first?["value"]?.elements.last?.stringValue ?? "") ?? 0
                #expect(bytes > 1_000_000, "the demo task's RSS is megabytes, got \(bytes)")

                try await checkDashboard(prometheus, propletID: propletID, taskID: id)
            }
        }
    }

    /// Runs the template variables' and every panel target's query with the variables set to this
    /// proplet and task; each must return at least one series.
    private func checkDashboard(_ prometheus: PrometheusServer, propletID: String, taskID: String) async throws {
        let url = repositoryRoot.appendingPathComponent("deploy/grafana/propeller.json")
        let dashboard = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url))
        let variables = dashboard["templating"]?["list"]?.elements ?? []
        let names = Set(variables.compactMap { $0["name"]?.stringValue })
        #expect(names.isSuperset(of: ["proplet", "task"]), "\(names)")
        #expect(try await prometheus.labelValues("proplet_id", match: "propeller_task_info").contains(propletID))
        let taskMatch = #"propeller_task_info{proplet_id=~"\#(propletID)"}"#
        #expect(try await prometheus.labelValues("task_id", match: taskMatch).contains(taskID))

        let panels = dashboard["panels"]?.elements ?? []
        #expect(panels.count >= 5, "the seed's five panels")
        let types = Set(panels.compactMap { $0["type"]?.stringValue })
        #expect(types.isSuperset(of: ["timeseries", "gauge", "bargauge"]), "\(types)")
        var queries = 0
        for panel in panels {
            let title = panel["title"]?.stringValue ?? "?"
            for target in panel["targets"]?.elements ?? [] {
                let expression = try #require(target["expr"]?.stringValue, "panel \(title) has a target without expr")
                #expect(expression.contains("$task") && expression.contains("$proplet"), "\(title) is templated")
                let concrete =
                    expression
                    .replacingOccurrences(of: "$__rate_interval", with: "10s")
                    .replacingOccurrences(of: "$__range", with: "5m")
                    .replacingOccurrences(of: "$proplet", with: propletID)
                    .replacingOccurrences(of: "$task", with: taskID)
                let result = try await eventually(concrete, prometheus)
                #expect(!result.isEmpty, "panel \(title): \(concrete)")
                queries += 1
            }
        }
        #expect(queries >= 5)
    }

    /// Polls a query until it returns at least one series (rates need two scrapes), up to 30 s.
    private func eventually(_ expression: String, _ prometheus: PrometheusServer) async throws -> [JSONValue] {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let result = try await prometheus.query(expression)
            if !result.isEmpty { return result }
            guard ContinuousClock.now < deadline else {
                let (health, error) = try await prometheus.targetHealth()
                throw HarnessError("no data for \(expression) within 30 s (target \(health) \(error))")
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// Creates and starts the demo daemon (Examples/demo.wat) with the intensive profile; returns its id.
func startDemoTask(_ stack: DevStack) async throws -> String {
    let wasm = try Fixtures.wasm(
        text: String(contentsOf: repositoryRoot.appendingPathComponent("Examples/demo.wat"), encoding: .utf8)
    )
    let body = JSONValue.object([
        "name": .string("_start"),
        "file": .string(Data(wasm).base64EncodedString()),
        "daemon": .bool(true),
        "monitoring_profile": .string("intensive"),
    ])
    let (created, task) = try await stack.request(
        "POST",
        "/tasks",
        body: String(decoding: try WireCoding.encode(body), as: UTF8.self)
    )
    guard created == 201, let id = try? task.decoded(as: WasmTask.self).id else {
        throw HarnessError("create: \(created) \(task)")
    }
    let (started, answer) = try await stack.request("POST", "/tasks/\(id)/start", body: "{}")
    guard started == 200 else { throw HarnessError("start: \(started) \(answer)") }
    return id
}

/// Waits until the task has `count` stored samples; returns its proplet id.
func waitForSamples(_ stack: DevStack, _ id: String, count: Int) async throws -> String {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
        let (_, page) = try await stack.request("GET", "/tasks/\(id)/metrics")
        if let samples = try? page.decoded(as: TaskMetricsPage.self).metrics, samples.count >= count,
            let proplet = samples.first?.propletID
        {
            return proplet
        }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw HarnessError("task \(id) has fewer than \(count) samples after 30 s")
}

/// A manager endpoint's body as text.
func managerText(_ stack: DevStack, _ path: String) async throws -> String {
    var request = URLRequest(url: URL(string: stack.managerURL + path)!)
    if let token = stack.token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    let (data, _) = try await URLSession.shared.data(for: request)
    return String(decoding: data, as: UTF8.self)
}

/// Runs promtool with `stdin` as its input.
func runPromtool(_ arguments: [String], stdin: String) async throws -> CommandResult {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("promtool-\(UUID().uuidString).txt")
    try stdin.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    return try await runCommand(
        "/bin/sh",
        ["-c", "/usr/bin/promtool \(arguments.joined(separator: " ")) < '\(file.path)'"]
    )
}
