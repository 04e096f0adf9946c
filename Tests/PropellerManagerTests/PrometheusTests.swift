import Foundation
import HummingbirdTesting
import PropellerCore
import PropellerLauncher
import Testing

@testable import PropellerManager

@Suite("Prometheus exposition")
struct PrometheusTests {
    /// Parses exposition text with Python's `prometheus_client` and returns "name{labels} value" lines
    /// of every sample, or nil when `PROPELLER_PYTHON` is not set.
    static func parseWithPrometheusClient(_ text: String) async throws -> [String]? {
        guard let python = ProcessInfo.processInfo.environment["PROPELLER_PYTHON"], !python.isEmpty else { return nil }
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.stdin.read()):
                for s in family.samples:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                    print(f"{s.name}{{{labels}}} {s.value}")
            """
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("exposition-\(UUID().uuidString)")
        try text.write(to: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: input) }
        // The script reads the exposition from stdin: `sh -c 'exec python … < file'` keeps the one launcher.
        let result = try await ProcessLauncher.run(
            "/bin/sh",
            arguments: ["-c", "exec \"$0\" -c \"$1\" < \"$2\"", python, script, input.path]
        )
        guard result.status == 0 else {
            throw TestFailure("prometheus_client rejected the text: \(result.standardError)")
        }
        let data = Data(result.standardOutput.utf8)
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// A strict line parser for the text format 0.0.4: comments, or `name{label="value",…} number`.
    static func strictlyParse(_ text: String) throws -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
            guard let space = line.lastIndex(of: " ") else { throw TestFailure("no value: \(line)") }
            let series = line[..<space]
            let valueText = line[line.index(after: space)...]
            guard let value = Double(valueText) ?? (valueText == "+Inf" ? .infinity : nil) else {
                throw TestFailure("bad value: \(line)")
            }
            let name = series.prefix { $0 != "{" }
            guard let first = name.first, first.isLetter || first == "_",
                name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
            else { throw TestFailure("bad name: \(line)") }
            if series.count > name.count {
                guard series.hasSuffix("}") else { throw TestFailure("bad labels: \(line)") }
            }
            samples[String(series)] = value
        }
        return samples
    }

    @Test("GET /metrics parses and shows the running task's gauges, proplet gauges, counters and latency")
    func exposition() async throws {
        let manager = TestManager()
        try await manager.addProplet(id: "p1")
        try await manager.withClient { client in
            let task = try await client.createTask(taskBody(name: #"we\"ird\\name"#))
            try await client.send("/tasks/\(task.id)/start", .post)
            let sample = TaskSample(
                taskID: task.id,
                propletID: "p1",
                metrics: ProcessMetrics(
                    cpuPercent: 12.5,
                    memoryBytes: 52_428_800,
                    diskReadBytes: 10,
                    diskWriteBytes: 20,
                    threadCount: 2,
                    fileDescriptorCount: 8
                ),
                aggregated: nil,
                timestamp: TestManager.epoch
            )
            let name = try #require(
                await manager.components.metrics.runningName(taskID: task.id) { id in
                    try? await manager.store.task(id: id)
                }
            )
            manager.components.metrics.updateTask(id: task.id, name: name, sample: sample)
            manager.components.metrics.updateProplet(
                PropletSample(
                    propletID: "p1",
                    timestamp: TestManager.epoch,
                    metrics: ProcessMetrics(cpuPercent: 3, memoryBytes: 1000),
                    host: HostMetrics(cpuPercent: 40, memoryTotalBytes: 2000, memoryUsedBytes: 1500, load1m: 1),
                    runningTasks: 1
                )
            )
            let response = try await client.send("/metrics", .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = String(buffer: response.body)
            let strict = try Self.strictlyParse(text)
            let labels = #"task_id="\#(task.id)",task_name="we\"ird\\name",proplet_id="p1""#
            #expect(strict["propeller_task_cpu_percent{\(labels)}"] == 12.5, "\(text)")
            #expect(strict["propeller_task_memory_bytes{\(labels)}"] == 52_428_800)
            #expect(strict["propeller_task_file_descriptors{\(labels)}"] == 8)
            #expect(strict[#"propeller_proplet_host_cpu_percent{proplet_id="p1"}"#] == 40)
            #expect(strict[#"propeller_http_requests_total{method="POST",path="/tasks",status="201"}"#] == 1)
            #expect(strict.keys.contains { $0.hasPrefix("propeller_http_request_duration_seconds_bucket{") })

            if let parsed = try await Self.parseWithPrometheusClient(text) {
                let sorted = #"proplet_id="p1",task_id="\#(task.id)",task_name="we"ird\name""#
                #expect(parsed.contains("propeller_task_cpu_percent{\(sorted)} 12.5"), "\(parsed)")
                #expect(parsed.contains { $0.hasPrefix("propeller_http_request_duration_seconds_count{") })
            }

            try await manager.components.tasks.apply(
                TaskResult(taskID: task.id, propletID: "p1", state: .completed)
            )
            let after = String(buffer: try await client.send("/metrics", .get).body)
            #expect(!after.contains("propeller_task_cpu_percent{"), "series of a finished task are removed")
        }
    }
}
