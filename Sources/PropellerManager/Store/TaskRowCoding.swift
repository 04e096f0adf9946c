import Foundation
import GRDB
import PropellerCore

/// Converts tasks and proplets to and from rows of `SQLiteStore`'s `tasks` and `proplets` tables.
///
/// Lists and objects that are never queried (inputs, env, cli_args, the profile, proplet metadata) are
/// JSON text. Inputs are written with an explicit kind (`{"i":…}`, `{"n":…}`, `{"s":…}`) so that a
/// number input such as `2.0` comes back as a number, not as the integer `2`.
enum TaskRowCoding {
    /// The 20 arguments of a task row, in the column order of `SQLiteStore.taskColumns` (writes are
    /// positional; reads go by column name).
    static func arguments(for task: WasmTask) throws -> StatementArguments {
        let values: [(any DatabaseValueConvertible)?] = [
            task.id, task.name, task.module?.digest, task.module?.sizeBytes, task.imageURL,
            try json(task.inputs.map(StoredInput.init)), try json(task.env), try json(task.cliArgs),
            task.daemon, try json(task.monitoringProfile), task.state.rawValue,
            task.propletID, task.results, task.error, task.exitCode,
            task.createdAt.microsecondsSinceEpoch, task.updatedAt.microsecondsSinceEpoch,
            task.startedAt?.microsecondsSinceEpoch, task.finishedAt?.microsecondsSinceEpoch,
            try json(task.limits), task.labels.isEmpty ? nil : try json(task.labels),
        ]
        return StatementArguments(values)
    }

    /// A task from a row that selects every column of `tasks` (decoded by column name).
    static func task(from row: Row) throws -> WasmTask {
        let columns = try ColumnIndexes(row, table: "tasks")
        let id: String = try row.decode(atIndex: columns["id"])
        let stateText: String = try row.decode(atIndex: columns["state"])
        guard let state = TaskState(rawValue: stateText) else {
            throw StoreError.database("task \(id) has an unknown stored state \"\(stateText)\"")
        }
        func json<T: Decodable>(_ name: String) throws -> T {
            try decode(T.self, try row.decode(String.self, atIndex: columns[name]), id: id)
        }
        func time(_ name: String) throws -> Timestamp? {
            try row.decode(Int64?.self, atIndex: columns[name]).map(Timestamp.init(microsecondsSinceEpoch:))
        }
        let inputs: [StoredInput] = try json("inputs_json")
        // NULL for tasks stored before migration v2-task-limits: no limits.
        let limitsText: String? = try row.decode(atIndex: columns["limits_json"])
        // NULL without labels (and for tasks stored before migration v4-task-labels).
        let labelsText: String? = try row.decode(atIndex: columns["labels_json"])
        let imageURL: String? = try row.decode(atIndex: columns["image_url"])
        let digest: String? = try row.decode(atIndex: columns["module_digest"])
        let size: Int? = try row.decode(atIndex: columns["module_size_bytes"])
        var task = WasmTask(
            id: id,
            name: try row.decode(atIndex: columns["name"]),
            module: TaskModule.stored(imageURL: imageURL, digest: digest, sizeBytes: size),
            imageURL: imageURL,
            inputs: inputs.map(\.input),
            env: try json("env_json"),
            cliArgs: try json("cli_args_json"),
            daemon: try row.decode(atIndex: columns["daemon"]),
            monitoringProfile: try json("profile_json"),
            state: state,
            propletID: try row.decode(atIndex: columns["proplet_id"]),
            results: try row.decode(atIndex: columns["results"]),
            error: try row.decode(atIndex: columns["error"]),
            exitCode: try row.decode(atIndex: columns["exit_code"]),
            createdAt: Timestamp(microsecondsSinceEpoch: try row.decode(atIndex: columns["created_at_us"])),
            updatedAt: Timestamp(microsecondsSinceEpoch: try row.decode(atIndex: columns["updated_at_us"])),
            startedAt: try time("started_at_us"),
            finishedAt: try time("finished_at_us")
        )
        task.limits = try limitsText.map { try decode(TaskLimits.self, $0, id: id) } ?? .none
        task.labels = try labelsText.map { try decode([String: String].self, $0, id: id) } ?? [:]
        return task
    }

    /// The 6 arguments of a proplet row: id, name, alive, last_seen_us, running_tasks, metadata_json.
    static func arguments(for proplet: Proplet) throws -> StatementArguments {
        let values: [(any DatabaseValueConvertible)?] = [
            proplet.id, proplet.name, proplet.alive, proplet.lastSeen.microsecondsSinceEpoch,
            proplet.runningTasks, try proplet.metadata.map(json),
        ]
        return StatementArguments(values)
    }

    /// A proplet from a row that selects every column of `proplets` (decoded by column name).
    static func proplet(from row: Row) throws -> Proplet {
        let columns = try ColumnIndexes(row, table: "proplets")
        let id: String = try row.decode(atIndex: columns["id"])
        let metadataText: String? = try row.decode(atIndex: columns["metadata_json"])
        return Proplet(
            id: id,
            name: try row.decode(atIndex: columns["name"]),
            alive: try row.decode(atIndex: columns["alive"]),
            lastSeen: Timestamp(microsecondsSinceEpoch: try row.decode(atIndex: columns["last_seen_us"])),
            runningTasks: try row.decode(atIndex: columns["running_tasks"]),
            metadata: try metadataText.map { try decode(PropletMetadata.self, $0, id: id) }
        )
    }

    private static func json(_ value: some Encodable) throws -> String {
        do {
            return String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        } catch {
            throw StoreError.database("cannot encode \(type(of: value)) as JSON: \(error)")
        }
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ text: String, id: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError.database("stored JSON of \(id) is not a valid \(type): \(error)")
        }
    }
}

/// A task input with its kind spelled out, so the JSON column round-trips exactly.
struct StoredInput: Codable {
    var input: TaskInput

    init(_ input: TaskInput) { self.input = input }

    private enum CodingKeys: String, CodingKey {
        case integer = "i"
        case number = "n"
        case string = "s"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let value = try container.decodeIfPresent(Int64.self, forKey: .integer) {
            input = .integer(value)
        } else if let value = try container.decodeIfPresent(Double.self, forKey: .number) {
            input = .number(value)
        } else {
            input = .string(try container.decode(String.self, forKey: .string))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch input {
        case .integer(let value): try container.encode(value, forKey: .integer)
        case .number(let value): try container.encode(value, forKey: .number)
        case .string(let value): try container.encode(value, forKey: .string)
        }
    }
}
