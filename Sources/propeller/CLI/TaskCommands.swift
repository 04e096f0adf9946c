import ArgumentParser
import Foundation
import PropellerCore
import WAT

/// Options every CLI command shares.
struct ManagerOptions: ParsableArguments {
    @Option(help: "The manager's REST API (default: PROPELLER_MANAGER_URL, else http://127.0.0.1:7070).")
    var managerURL: String?

    /// The option, else `PROPELLER_MANAGER_URL`, else `http://127.0.0.1:7070`.
    var resolvedURL: String {
        if let managerURL { return managerURL }
        let variable = ProcessInfo.processInfo.environment["PROPELLER_MANAGER_URL"] ?? ""
        return variable.isEmpty ? "http://127.0.0.1:7070" : variable
    }

    func client() throws -> ManagerAPIClient { try ManagerAPIClient(baseURL: resolvedURL) }
}

/// `propeller task …`: create, start, stop, inspect and watch tasks through the manager.
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Create, run and inspect tasks through the manager's REST API.",
        subcommands: [
            Create.self, Start.self, Stop.self, Get.self, List.self, Results.self, Delete.self, Metrics.self,
            Watch.self,
        ]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a task from a .wasm or .wat file.")
        @OptionGroup var manager: ManagerOptions
        @Argument(help: "The module: a .wasm binary or a .wat text file.")
        var file: String
        @Option(help: "The export to call (or _start for a WASI command).")
        var name: String
        @Option(name: .customLong("input"), help: "An input value; repeat for several.")
        var inputs: [String] = []
        @Option(name: .customLong("env"), help: "An environment variable K=V; repeat for several.")
        var env: [String] = []
        @Option(name: .customLong("arg"), help: "A command-line argument for a WASI command; repeat for several.")
        var cliArgs: [String] = []
        @Flag(help: "A long-running task that stays running until stopped.")
        var daemon = false
        @Option(help: "A built-in monitoring profile: standard, minimal, intensive, batch, daemon.")
        var profile: String?
        @Option(help: "A monitoring profile as JSON (full or partial object).")
        var profileJSON: String?
        @Option(help: "Most resident memory of the task's process: bytes, or with a unit (64MiB, 1GiB, 500MB).")
        var limitMemory: String?
        @Option(name: .customLong("limit-cpu"), help: "Most CPU time of the task's process, whole seconds (10 or 10s).")
        var limitCPU: String?
        @Option(help: "Most wall time of the task, whole seconds (30 or 30s).")
        var timeout: String?
        @Flag(help: "Start the task right after creating it.")
        var start = false

        func run() async throws {
            try await CLIRunner.run {
                let client = try manager.client()
                var body: [String: JSONValue] = [
                    "name": .string(name),
                    "file": .string(try ModuleFile.base64(path: file)),
                    "inputs": .array(inputs.map(Self.inputValue)),
                    "env": .object(try Self.environment(env)),
                    "cli_args": .array(cliArgs.map(JSONValue.string)),
                    "daemon": .bool(daemon),
                ]
                switch (profile, profileJSON) {
                case (let name?, nil): body["monitoring_profile"] = .string(name)
                case (nil, let json?):
                    guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)) else {
                        throw CLIError(description: "--profile-json is not valid JSON: \(json)")
                    }
                    body["monitoring_profile"] = value
                case (nil, nil): break
                case (.some, .some): throw CLIError(description: "give either --profile or --profile-json, not both")
                }
                if let limits = try limitsBody() { body["limits"] = limits }
                let id = try await client.fetch(WasmTask.self, "POST", "tasks", body: .object(body)).id
                if start {
                    try await client.send("POST", "tasks/\(id)/start", body: .object([:]))
                }
                print(id)
            }
        }

        /// The `limits` object from `--limit-memory`, `--limit-cpu` and `--timeout`; nil when none is given.
        /// The manager checks the ranges; this only parses the units.
        func limitsBody() throws -> JSONValue? {
            var limits: [String: JSONValue] = [:]
            if let limitMemory {
                guard let bytes = TaskLimits.parseBytes(limitMemory) else {
                    throw CLIError(description: "--limit-memory must be \(TaskLimits.bytesSyntax), got \(limitMemory)")
                }
                limits["memory_bytes"] = .integer(bytes)
            }
            for (flag, text, key) in [
                ("--limit-cpu", limitCPU, "cpu_seconds"), ("--timeout", timeout, "timeout_seconds"),
            ] {
                guard let text else { continue }
                guard let seconds = TaskLimits.parseSeconds(text) else {
                    throw CLIError(description: "\(flag) must be \(TaskLimits.secondsSyntax), got \(text)")
                }
                limits[key] = .integer(Int64(seconds))
            }
            return limits.isEmpty ? nil : .object(limits)
        }

        /// Numbers stay numbers; anything else is sent as a string.
        static func inputValue(_ text: String) -> JSONValue {
            if let integer = Int64(text) { return .integer(integer) }
            if let number = Double(text), number.isFinite { return .number(number) }
            return .string(text)
        }

        static func environment(_ pairs: [String]) throws -> [String: JSONValue] {
            var result: [String: JSONValue] = [:]
            for pair in pairs {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw CLIError(description: "--env must be KEY=VALUE, got \(pair)")
                }
                result[String(pair[..<equals])] = .string(String(pair[pair.index(after: equals)...]))
            }
            return result
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a task on a live proplet.")
        @OptionGroup var manager: ManagerOptions
        @Argument var id: String
        @Option(help: "Run on this proplet instead of the next one round-robin.")
        var propletID: String?

        func run() async throws {
            try await CLIRunner.run {
                let body: JSONValue = .object(propletID.map { ["proplet_id": .string($0)] } ?? [:])
                let task = try await manager.client().fetch(WasmTask.self, "POST", "tasks/\(id)/start", body: body)
                print("\(id) \(task.state.rawValue) on \(task.propletID ?? "-")")
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a running task.")
        @OptionGroup var manager: ManagerOptions
        @Argument var id: String

        func run() async throws {
            try await CLIRunner.run {
                let task = try await manager.client().fetch(
                    WasmTask.self,
                    "POST",
                    "tasks/\(id)/stop",
                    body: .object([:])
                )
                print("\(id) \(task.state.rawValue)")
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a task as JSON.")
        @OptionGroup var manager: ManagerOptions
        @Argument var id: String

        func run() async throws {
            try await CLIRunner.run {
                var task = try await manager.client().fetch(WasmTask.self, "GET", "tasks/\(id)")
                if let file = task.file { task.file = "<\(file.count) base64 characters>" }
                print(try WireCoding.decode(JSONValue.self, from: try WireCoding.encode(task)).prettyJSON)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tasks.")
        @OptionGroup var manager: ManagerOptions
        @Option(help: "Only tasks in this state.") var state: String?
        @Option var offset = 0
        @Option var limit = 100
        @Flag(help: "Print the raw JSON.") var json = false

        func run() async throws {
            try await CLIRunner.run {
                var query = ["offset": String(offset), "limit": String(limit)]
                query["state"] = state
                let client = try manager.client()
                if json { return print(try await client.send("GET", "tasks", query: query).prettyJSON) }
                let page = try await client.fetch(TaskPage.self, "GET", "tasks", query: query)
                let rows = page.tasks.map { task in
                    [task.id, task.name, task.state.rawValue, task.propletID ?? "-", task.createdAt.rfc3339]
                }
                print(Table.render(header: ["ID", "NAME", "STATE", "PROPLET", "CREATED"], rows: rows))
                print("\(rows.count) of \(page.total) tasks")
            }
        }
    }

    struct Results: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a task's results.")
        @OptionGroup var manager: ManagerOptions
        @Argument var id: String

        func run() async throws {
            try await CLIRunner.run {
                print(try await manager.client().send("GET", "tasks/\(id)/results").prettyJSON)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a task that is not running.")
        @OptionGroup var manager: ManagerOptions
        @Argument var id: String

        func run() async throws {
            try await CLIRunner.run {
                try await manager.client().send("DELETE", "tasks/\(id)")
                print("deleted \(id)")
            }
        }
    }
}

/// Reads a module file for upload: `.wat` is compiled to binary first.
enum ModuleFile {
    static func base64(path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError(description: "cannot read module file \(path)")
        }
        if path.hasSuffix(".wat") {
            do {
                return Data(try wat2wasm(String(decoding: data, as: UTF8.self))).base64EncodedString()
            } catch {
                throw CLIError(description: "\(path) is not valid WebAssembly text: \(error)")
            }
        }
        guard data.starts(with: [0x00, 0x61, 0x73, 0x6D]) else {
            throw CLIError(description: "\(path) is not a WebAssembly module (no \\0asm header); use .wasm or .wat")
        }
        return data.base64EncodedString()
    }
}

/// Runs a CLI action and turns any failure into one line on stderr and exit code 1.
enum CLIRunner {
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode.failure
        }
    }
}
