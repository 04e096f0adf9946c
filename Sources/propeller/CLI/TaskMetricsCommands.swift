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
                let page = try await manager.client().send("GET", "tasks/\(id)/metrics", query: query)
                if json { return print(page.prettyJSON) }
                print(SampleTable.render(page["metrics"]?.elements ?? []))
                print(SampleTable.aggregate(page["aggregated"]))
                print("\(page["metrics"]?.elements.count ?? 0) of \(page["total"]?.text ?? "?") samples")
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
                    let task = try await client.send("GET", "tasks/\(id)")
                    let page = try await client.send(
                        "GET",
                        "tasks/\(id)/metrics",
                        query: ["order": "desc", "limit": "60"]
                    )
                    let samples = Array((page["metrics"]?.elements ?? []).reversed())
                    let cpu = samples.compactMap { $0["metrics"]?["cpu_percent"]?.doubleValue }
                    let memory = samples.compactMap { $0["metrics"]?["memory_bytes"]?.doubleValue }
                    var screen = "\u{1B}[2J\u{1B}[H"
                    screen += "task \(id)  \(task["name"]?.text ?? "")  state: \(task["state"]?.text ?? "?")"
                    screen += "  proplet: \(task["proplet_id"]?.text ?? "-")\n\n"
                    if let latest = samples.last {
                        screen += SampleTable.render([latest]) + "\n\n"
                    } else {
                        screen += "no samples yet\n\n"
                    }
                    screen += "cpu %   \(Table.sparkline(cpu))  \(cpu.last.map { String(format: "%.1f", $0) } ?? "-")\n"
                    screen += "memory  \(Table.sparkline(memory))  \(Table.bytes(memory.last))\n\n"
                    screen += SampleTable.aggregate(page["aggregated"]) + "\n"
                    FileHandle.standardOutput.write(Data(screen.utf8))
                    refreshes += 1
                    if let state = task["state"]?.text, TaskState(rawValue: state)?.isFinished == true { break }
                    let seconds =
                        interval ?? Int(task["monitoring_profile"]?["interval"]?.doubleValue ?? 1)
                    try await Task.sleep(for: .seconds(max(1, seconds)))
                }
            }
        }
    }
}

/// Renders samples and aggregates for the terminal.
enum SampleTable {
    static func render(_ samples: [JSONValue]) -> String {
        let rows = samples.map { sample -> [String] in
            let metrics = sample["metrics"]
            return [
                sample["timestamp"]?.text ?? "-",
                metrics?["cpu_percent"]?.doubleValue.map { String(format: "%.1f", $0) } ?? "-",
                Table.bytes(metrics?["memory_bytes"]?.doubleValue),
                Table.bytes(metrics?["disk_read_bytes"]?.doubleValue),
                Table.bytes(metrics?["disk_write_bytes"]?.doubleValue),
                metrics?["uptime_seconds"]?.text ?? "-",
                metrics?["thread_count"]?.text ?? "-",
                metrics?["file_descriptor_count"]?.text ?? "-",
            ]
        }
        return Table.render(
            header: ["TIMESTAMP", "CPU%", "MEMORY", "DISK READ", "DISK WRITE", "UPTIME", "THREADS", "FDS"],
            rows: rows
        )
    }

    static func aggregate(_ value: JSONValue?) -> String {
        guard let value, value != .null else { return "aggregate: none" }
        func number(_ key: String) -> String {
            value[key]?.doubleValue.map { String(format: "%.1f", $0) } ?? "-"
        }
        return "aggregate over \(value["sample_count"]?.text ?? "0") samples: cpu avg \(number("avg_cpu_usage"))%"
            + " max \(number("max_cpu_usage"))% p95 \(number("p95_cpu_usage"))%;"
            + " memory avg \(Table.bytes(value["avg_memory_usage"]?.doubleValue))"
            + " max \(Table.bytes(value["max_memory_usage"]?.doubleValue));"
            + " disk read \(Table.bytes(value["total_disk_read"]?.doubleValue))"
            + " write \(Table.bytes(value["total_disk_write"]?.doubleValue))"
    }
}
