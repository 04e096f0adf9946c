import Foundation
import GRDB
import PropellerCore

/// Converts tasks and proplets to and from rows of `SQLiteStore`'s `tasks` and `proplets` tables.
///
/// Lists and objects that are never queried (inputs, env, cli_args, the profile, proplet metadata) are
/// JSON text. Inputs are written with an explicit kind (`{"i":…}`, `{"n":…}`, `{"s":…}`) so that a
/// number input such as `2.0` comes back as a number, not as the integer `2`.
enum TaskRowCoding {
    /// The 19 arguments of a task row, in the column order of `SQLiteStore.taskColumns`.
    static func arguments(for task: WasmTask) throws -> StatementArguments {
        let values: [(any DatabaseValueConvertible)?] = [
            task.id, task.name, task.file, task.imageURL,
            try json(task.inputs.map(StoredInput.init)), try json(task.env), try json(task.cliArgs),
            task.daemon, try json(task.monitoringProfile), task.state.rawValue,
            task.propletID, task.results, task.error, task.exitCode,
            task.createdAt.microsecondsSinceEpoch, task.updatedAt.microsecondsSinceEpoch,
            task.startedAt?.microsecondsSinceEpoch, task.finishedAt?.microsecondsSinceEpoch,
            try json(task.limits),
        ]
        return StatementArguments(values)
    }

    /// A task from a row selected with `SQLiteStore.taskColumns`.
    static func task(from row: Row) throws -> WasmTask {
        let id: String = try row.decode(atIndex: 0)
        let stateText: String = try row.decode(atIndex: 9)
        guard let state = TaskState(rawValue: stateText) else {
            throw StoreError.database("task \(id) has an unknown stored state \"\(stateText)\"")
        }
        let inputs: [StoredInput] = try value(from: row, at: 4, id: id)
        let limitsText: String? = try row.decode(atIndex: 18)
        var task = WasmTask(
            id: id,
            name: try row.decode(atIndex: 1),
            file: try row.decode(atIndex: 2),
            imageURL: try row.decode(atIndex: 3),
            inputs: inputs.map(\.input),
            env: try value(from: row, at: 5, id: id),
            cliArgs: try value(from: row, at: 6, id: id),
            daemon: try row.decode(atIndex: 7),
            monitoringProfile: try value(from: row, at: 8, id: id),
            state: state,
            propletID: try row.decode(atIndex: 10),
            results: try row.decode(atIndex: 11),
            error: try row.decode(atIndex: 12),
            exitCode: try row.decode(atIndex: 13),
            createdAt: Timestamp(microsecondsSinceEpoch: try row.decode(atIndex: 14)),
            updatedAt: Timestamp(microsecondsSinceEpoch: try row.decode(atIndex: 15)),
            startedAt: (try row.decode(Int64?.self, atIndex: 16)).map(Timestamp.init(microsecondsSinceEpoch:)),
            finishedAt: (try row.decode(Int64?.self, atIndex: 17)).map(Timestamp.init(microsecondsSinceEpoch:))
        )
        task.limits = try limitsText.map { try decode(TaskLimits.self, $0, id: id) } ?? .none
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

    /// A proplet from a row of its 6 columns.
    static func proplet(from row: Row) throws -> Proplet {
        let id: String = try row.decode(atIndex: 0)
        let metadataText: String? = try row.decode(atIndex: 5)
        return Proplet(
            id: id,
            name: try row.decode(atIndex: 1),
            alive: try row.decode(atIndex: 2),
            lastSeen: Timestamp(microsecondsSinceEpoch: try row.decode(atIndex: 3)),
            runningTasks: try row.decode(atIndex: 4),
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

    private static func value<T: Decodable>(from row: Row, at index: Int, id: String) throws -> T {
        try decode(T.self, try row.decode(String.self, atIndex: index), id: id)
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
private struct StoredInput: Codable {
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
