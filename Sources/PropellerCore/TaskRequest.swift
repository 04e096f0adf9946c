// FoundationEssentials where it exists: PropellerCore is linked into the lean task runner, and full
// Foundation would add ≈6 MiB to every task process (see WireCoding.swift).
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The body of `POST /tasks` (SPEC §4), decoded strictly.
///
/// - `name` is required (a non-empty string of at most 256 characters).
/// - Exactly one of `file` (valid, non-empty base64) and `image_url` (a non-empty string).
/// - `inputs`: numbers or strings; `env`: an object of strings; `cli_args`: strings; `daemon`: a boolean.
/// - `monitoring_profile`: a profile name, a partial or full object, or null (see
///   `MonitoringProfile.resolve(_:daemon:)`); the result is always the full resolved profile.
/// - `limits`: null or an object of `memory_bytes`, `cpu_seconds`, `timeout_seconds` (see `TaskLimits`).
/// - `labels`: null or an object of strings, at most 16, keys `[a-z_][a-z0-9_]*` (at most 64 characters),
///   values at most 256 characters.
/// - Server fields (`id`, `state`, `proplet_id`, `results`, `error`, `exit_code`, timestamps) are ignored.
/// - Any other key is rejected with an error naming it.
public struct TaskRequest: Sendable, Hashable {
    /// The export to call (or `_start`).
    public var name: String
    /// The module, base64-encoded; nil when `imageURL` is given.
    public var file: String?
    /// Where the proplet fetches the module; nil when `file` is given.
    public var imageURL: String?
    /// Arguments of the export (or extra argv of a WASI command).
    public var inputs: [TaskInput]
    /// Environment of a WASI command.
    public var env: [String: String]
    /// argv of a WASI command.
    public var cliArgs: [String]
    /// A long-running task (selects the `daemon` profile when none is given).
    public var daemon: Bool
    /// The resolved profile.
    public var monitoringProfile: MonitoringProfile
    /// The task's resource limits (empty: the proplet's defaults).
    public var limits: TaskLimits = .none
    /// The client's labels.
    public var labels: [String: String] = [:]

    /// Keys a client may send.
    public static let acceptedKeys = [
        "name", "file", "image_url", "inputs", "env", "cli_args", "daemon", "monitoring_profile", "limits",
        "labels",
    ]
    /// Keys set by the server only; accepted in a body (a client may send back a task it read) and ignored.
    public static let serverKeys: Set<String> = [
        "id", "module", "state", "proplet_id", "results", "error", "exit_code", "created_at", "updated_at",
        "started_at",
        "finished_at",
    ]
    /// Longest accepted `name`.
    public static let maxNameLength = 256

    /// Decodes and validates a request body.
    ///
    /// - Throws: `ContractError` naming the offending field (or `.malformed` when the body is not JSON).
    public init(json data: Data) throws(ContractError) {
        let value = try WireCoding.decode(JSONValue.self, from: data)
        try self.init(value)
    }

    /// Validates an already-parsed JSON value.
    public init(_ value: JSONValue) throws(ContractError) {
        guard case .object(let object) = value else {
            throw .invalidValue(field: "body", expected: "a JSON object", got: value.description)
        }
        for key in object.keys.sorted() where !Self.acceptedKeys.contains(key) && !Self.serverKeys.contains(key) {
            throw .unknownKey(field: key, accepted: Self.acceptedKeys)
        }
        name = try Self.name(object["name"])
        file = try Self.optionalString(object["file"], field: "file")
        imageURL = try Self.optionalString(object["image_url"], field: "image_url")
        switch (file, imageURL) {
        case (nil, nil):
            throw .missingField(field: "file or image_url")
        case (.some, .some):
            throw .invalidValue(
                field: "file",
                expected: "absent when image_url is given (exactly one of the two)",
                got: "both"
            )
        case (let file?, nil):
            guard Data(base64Encoded: file) != nil else {
                throw .invalidValue(field: "file", expected: "a base64-encoded .wasm module", got: "invalid base64")
            }
        case (nil, .some):
            break
        }
        inputs = try Self.inputs(object["inputs"])
        env = try Self.env(object["env"])
        cliArgs = try Self.strings(object["cli_args"], field: "cli_args")
        daemon = try Self.bool(object["daemon"], field: "daemon")
        monitoringProfile = try MonitoringProfile.resolve(object["monitoring_profile"], daemon: daemon)
        limits = try TaskLimits(json: object["limits"])
        labels = try Self.labels(object["labels"])
    }

    /// Most labels a task may carry.
    public static let maxLabels = 16
    /// Longest label key and value.
    public static let maxLabelKeyLength = 64
    public static let maxLabelValueLength = 256

    private static func labels(_ value: JSONValue?) throws(ContractError) -> [String: String] {
        guard let value, value != .null else { return [:] }
        let expected = "an object of at most \(maxLabels) strings with keys matching [a-z_][a-z0-9_]*"
        guard case .object(let object) = value else {
            throw .invalidValue(field: "labels", expected: expected, got: value.description)
        }
        guard object.count <= maxLabels else {
            throw .invalidValue(field: "labels", expected: expected, got: "\(object.count) labels")
        }
        var labels: [String: String] = [:]
        for key in object.keys.sorted() {
            guard isLabelKey(key) else {
                throw .invalidValue(
                    field: "labels",
                    expected: "keys matching [a-z_][a-z0-9_]* of at most \(maxLabelKeyLength) characters",
                    got: "\"\(key.prefix(80))\""
                )
            }
            guard case .string(let text) = object[key]!, text.count <= maxLabelValueLength else {
                throw .invalidValue(
                    field: "labels.\(key)",
                    expected: "a string of at most \(maxLabelValueLength) characters",
                    got: object[key]!.description
                )
            }
            labels[key] = text
        }
        return labels
    }

    /// `[a-z_][a-z0-9_]*`, at most `maxLabelKeyLength` characters.
    static func isLabelKey(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        guard let first = bytes.first, bytes.count <= maxLabelKeyLength,
            first == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first)
        else { return false }
        return bytes.allSatisfy {
            $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
        }
    }

    private static func name(_ value: JSONValue?) throws(ContractError) -> String {
        guard let value, value != .null else { throw .missingField(field: "name") }
        guard case .string(let text) = value, !text.isEmpty, text.count <= maxNameLength else {
            throw .invalidValue(
                field: "name",
                expected: "a non-empty string of at most \(maxNameLength) characters",
                got: value.description
            )
        }
        return text
    }

    private static func optionalString(_ value: JSONValue?, field: String) throws(ContractError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)? where !text.isEmpty: return text
        case let other?: throw .invalidValue(field: field, expected: "a non-empty string", got: other.description)
        }
    }

    private static func inputs(_ value: JSONValue?) throws(ContractError) -> [TaskInput] {
        guard let value, value != .null else { return [] }
        guard case .array(let items) = value else {
            throw .invalidValue(field: "inputs", expected: "an array of numbers or strings", got: value.description)
        }
        var inputs: [TaskInput] = []
        for (index, item) in items.enumerated() {
            switch item {
            case .integer(let number): inputs.append(.integer(number))
            case .number(let number) where number.isFinite: inputs.append(.number(number))
            case .string(let text): inputs.append(.string(text))
            default:
                throw .invalidValue(field: "inputs[\(index)]", expected: "a number or a string", got: item.description)
            }
        }
        return inputs
    }

    private static func env(_ value: JSONValue?) throws(ContractError) -> [String: String] {
        guard let value, value != .null else { return [:] }
        guard case .object(let object) = value else {
            throw .invalidValue(field: "env", expected: "an object of strings", got: value.description)
        }
        var env: [String: String] = [:]
        for (key, item) in object {
            guard !key.isEmpty, !key.contains("="), !key.contains("\0") else {
                throw .invalidValue(field: "env", expected: "variable names without '=' or NUL", got: "\"\(key)\"")
            }
            guard case .string(let text) = item else {
                throw .invalidValue(field: "env.\(key)", expected: "a string", got: item.description)
            }
            env[key] = text
        }
        return env
    }

    private static func strings(_ value: JSONValue?, field: String) throws(ContractError) -> [String] {
        guard let value, value != .null else { return [] }
        guard case .array(let items) = value else {
            throw .invalidValue(field: field, expected: "an array of strings", got: value.description)
        }
        var strings: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item else {
                throw .invalidValue(field: "\(field)[\(index)]", expected: "a string", got: item.description)
            }
            strings.append(text)
        }
        return strings
    }

    private static func bool(_ value: JSONValue?, field: String) throws(ContractError) -> Bool {
        switch value {
        case nil, .null?: return false
        case .bool(let flag)?: return flag
        case let other?: throw .invalidValue(field: field, expected: "true or false", got: other.description)
        }
    }
}
