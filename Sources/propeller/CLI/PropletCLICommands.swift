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
                let client = try manager.client()
                if json { return print(try await client.send("GET", "proplets", query: ["limit": "1000"]).prettyJSON) }
                let page = try await client.fetch(PropletPage.self, "GET", "proplets", query: ["limit": "1000"])
                let rows = page.proplets.map { proplet in
                    [
                        proplet.id, proplet.name, String(proplet.alive), String(proplet.runningTasks),
                        proplet.lastSeen.rfc3339,
                    ]
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
                let client = try manager.client()
                let path = "proplets/\(id)/metrics"
                let query = ["limit": String(limit), "order": order]
                if json { return print(try await client.send("GET", path, query: query).prettyJSON) }
                let page = try await client.fetch(PropletMetricsPage.self, "GET", path, query: query)
                let rows = page.metrics.map { sample -> [String] in
                    [
                        sample.timestamp.rfc3339,
                        sample.metrics.cpuPercent.map { String(format: "%.1f", $0) } ?? "-",
                        Table.bytes(sample.metrics.memoryBytes.map(Double.init)),
                        String(format: "%.1f", sample.host.cpuPercent),
                        Table.bytes(Double(sample.host.memoryUsedBytes)),
                        String(sample.runningTasks),
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
