import ArgumentParser
import Foundation
import PropellerCore

/// `propeller proplet list|get|metrics`: inspect proplets through the manager.
enum PropletCLI {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List proplets known to the manager.")
        @OptionGroup var manager: ManagerOptions
        @Flag(help: "Print the raw JSON.") var json = false

        func run() async throws {
            try await CLIRunner.run {
                let page = try await manager.client().send("GET", "proplets", query: ["limit": "1000"])
                if json { return print(page.prettyJSON) }
                let rows = (page["proplets"]?.elements ?? []).map { proplet in
                    ["id", "name", "alive", "running_tasks", "last_seen"].map { proplet[$0]?.text ?? "-" }
                }
                print(Table.render(header: ["ID", "NAME", "ALIVE", "TASKS", "LAST SEEN"], rows: rows))
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a proplet as JSON.")
        @OptionGroup var manager: ManagerOptions
        @Argument var id: String

        func run() async throws {
            try await CLIRunner.run {
                print(try await manager.client().send("GET", "proplets/\(id)").prettyJSON)
            }
        }
    }

    struct Metrics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a proplet's stored samples.")
        @OptionGroup var manager: ManagerOptions
        @Argument var id: String
        @Option var limit = 20
        @Option(help: "asc or desc.") var order = "desc"
        @Flag(help: "Print the raw JSON.") var json = false

        func run() async throws {
            try await CLIRunner.run {
                let page = try await manager.client().send(
                    "GET",
                    "proplets/\(id)/metrics",
                    query: ["limit": String(limit), "order": order]
                )
                if json { return print(page.prettyJSON) }
                let rows = (page["metrics"]?.elements ?? []).map { sample -> [String] in
                    [
                        sample["timestamp"]?.text ?? "-",
                        sample["metrics"]?["cpu_percent"]?.doubleValue.map { String(format: "%.1f", $0) } ?? "-",
                        Table.bytes(sample["metrics"]?["memory_bytes"]?.doubleValue),
                        sample["host"]?["cpu_percent"]?.doubleValue.map { String(format: "%.1f", $0) } ?? "-",
                        Table.bytes(sample["host"]?["memory_used_bytes"]?.doubleValue),
                        sample["running_tasks"]?.text ?? "-",
                    ]
                }
                print(
                    Table.render(
                        header: ["TIMESTAMP", "CPU%", "MEMORY", "HOST CPU%", "HOST MEM USED", "TASKS"],
                        rows: rows
                    )
                )
            }
        }
    }
}
