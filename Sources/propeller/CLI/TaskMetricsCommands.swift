import ArgumentParser
import Foundation
import PropellerCore

extension TaskCommand {
    struct Metrics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a task's stored samples and aggregate.")
        @OptionGroup var manager: ManagerOptions
        @Argument var id: String
        @Option var offset = 0
        @Option var limit = 20
        @Option(help: "asc or desc.") var order = "desc"
        @Option(help: "RFC 3339 start of the range.") var from: String?
        @Option(help: "RFC 3339 end of the range.") var to: String?
        @Flag(help: "Print the raw JSON.") var json = false

        func run() async throws {
            try await CLIRunner.run {
                var query = ["offset": String(offset), "limit": String(limit), "order": order]
                query["from"] = from
                query["to"] = to
                let client = try manager.client()
                if json { return print(try await client.send("GET", "tasks/\(id)/metrics", query: query).prettyJSON) }
                let page = try await client.fetch(TaskMetricsPage.self, "GET", "tasks/\(id)/metrics", query: query)
                print(SampleTable.render(page.metrics))
                print(SampleTable.aggregate(page.aggregated))
                print("\(page.metrics.count) of \(page.total) samples")
            }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Live view of a task: latest values, CPU and memory sparklines, and the aggregate."
        )
        @OptionGroup var manager: ManagerOptions
        @Argument var id: String
        @Option(help: "Seconds between refreshes (default: the task's profile interval).")
        var interval: Int?
        @Option(help: "Stop after this many refreshes (default: until the task ends or Ctrl-C).")
        var count: Int?

        func run() async throws {
            try await CLIRunner.run {
                let client = try manager.client()
                var refreshes = 0
                while count.map({ refreshes < $0 }) ?? true {
                    let task = try await client.fetch(WasmTask.self, "GET", "tasks/\(id)")
                    let page = try await client.fetch(
                        TaskMetricsPage.self,
                        "GET",
                        "tasks/\(id)/metrics",
                        query: ["order": "desc", "limit": "60"]
                    )
                    let samples = Array(page.metrics.reversed())
                    let cpu = samples.compactMap(\.metrics.cpuPercent)
                    let memory = samples.compactMap { $0.metrics.memoryBytes.map(Double.init) }
                    var screen = "\u{1B}[2J\u{1B}[H"
                    screen += "task \(id)  \(task.name)  state: \(task.state.rawValue)"
                    screen += "  proplet: \(task.propletID ?? "-")\n\n"
                    let every = task.monitoringProfile.interval
                    if let latest = samples.last {
                        screen += SampleTable.render([latest]) + "\n"
                        screen += Self.schedule(last: latest.timestamp, every: every, running: !task.state.isFinished)
                        screen += "\n\n"
                    } else {
                        screen += "no samples yet (one every \(every) s while the task runs)\n\n"
                    }
                    screen += "cpu %   \(Table.sparkline(cpu))  \(cpu.last.map { String(format: "%.1f", $0) } ?? "-")\n"
                    screen += "memory  \(Table.sparkline(memory))  \(Table.bytes(memory.last))\n\n"
                    screen += SampleTable.aggregate(page.aggregated) + "\n"
                    FileHandle.standardOutput.write(Data(screen.utf8))
                    refreshes += 1
                    if task.state.isFinished { break }
                    let seconds = interval ?? Int(task.monitoringProfile.interval)
                    try await Task.sleep(for: .seconds(max(1, seconds)))
                }
            }
        }
    }
}

extension TaskCommand.Watch {
    /// "last sample 12 s ago; next due in 48 s (every 60 s)": shown at once, so a long interval is not
    /// a blank screen. `now` is injectable for tests.
    static func schedule(last: Timestamp, every: Int, running: Bool, now: Timestamp = .now()) -> String {
        let age = max(0, Int((now.secondsSinceEpoch - last.secondsSinceEpoch).rounded(.down)))
        let clock = String(last.rfc3339.dropFirst(11).prefix(8)) + "Z"
        var text = "last sample at \(clock) (\(age) s ago)"
        guard running else { return text }
        let due = every - age
        text += due > 0 ? "; next due in \(due) s (every \(every) s)" : "; next due now (every \(every) s)"
        return text
    }
}

/// Renders samples and aggregates for the terminal.
enum SampleTable {
    static func render(_ samples: [TaskSample]) -> String {
        let rows = samples.map { sample -> [String] in
            let metrics = sample.metrics
            return [
                sample.timestamp.rfc3339,
                metrics.cpuPercent.map { String(format: "%.1f", $0) } ?? "-",
                Table.bytes(metrics.memoryBytes.map(Double.init)),
                Table.bytes(metrics.diskReadBytes.map(Double.init)),
                Table.bytes(metrics.diskWriteBytes.map(Double.init)),
                metrics.uptimeSeconds.map(String.init) ?? "-",
                metrics.threadCount.map(String.init) ?? "-",
                metrics.fileDescriptorCount.map(String.init) ?? "-",
            ]
        }
        return Table.render(
            header: ["TIMESTAMP", "CPU%", "MEMORY", "DISK READ", "DISK WRITE", "UPTIME", "THREADS", "FDS"],
            rows: rows
        )
    }

    static func aggregate(_ value: AggregatedMetrics?) -> String {
        guard let value else { return "aggregate: none" }
        func number(_ number: Double?) -> String { number.map { String(format: "%.1f", $0) } ?? "-" }
        return "aggregate over \(value.sampleCount) samples: cpu avg \(number(value.avgCPUUsage))%"
            + " max \(number(value.maxCPUUsage))% p95 \(number(value.p95CPUUsage))%;"
            + " memory avg \(Table.bytes(value.avgMemoryUsage))"
            + " max \(Table.bytes(Double(value.maxMemoryUsage)));"
            + " disk read \(Table.bytes(Double(value.totalDiskRead)))"
            + " write \(Table.bytes(Double(value.totalDiskWrite)))"
    }
}
