// FoundationEssentials where it exists (Linux): full Foundation costs the lean task runner, which links
// this module, about 6 MiB of resident memory per task process.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JSON coding for everything on the wire and in the REST API.
///
/// Keys are spelled out by each type's `CodingKeys` (snake_case, as SPEC §2 names them); timestamps
/// are `Timestamp` values and so always RFC 3339 strings. Decoding errors become `ContractError`
/// with the path of the offending field.
public enum WireCoding {
    /// Encodes a value as compact JSON with sorted keys (stable output for logs and tests).
    /// A type with a hand-written encoder (`FastJSONEncodable`: samples, metrics pages) writes the same
    /// bytes itself.
    public static func encode(_ value: some Encodable) throws -> Data {
        if let fast = value as? any FastJSONEncodable {
            var writer = JSONWriter()
            fast.writeJSON(to: &writer)
            return Data(writer.bytes)
        }
        return try encodeWithCodable(value)
    }

    /// Encodes a value with `JSONEncoder` alone (what `encode` does for types without a fast encoder).
    static func encodeWithCodable(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Encodes a value as a JSON string.
    public static func encodeString(_ value: some Encodable) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }

    /// Decodes a value, turning every failure into a `ContractError` that names the field.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(ContractError) -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as ContractError {
            throw error
        } catch let error as DecodingError {
            throw ContractError(error)
        } catch {
            throw .malformed(reason: "not valid JSON: \(error)")
        }
    }

    /// Decodes a value from raw bytes (for example an MQTT payload).
    /// A type with a hand-written decoder for its common shape (`FastJSONDecodable`: the task sample)
    /// is read by that first; the Codable decoder runs when it answers nil.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(ContractError) -> T {
        if let fast = type as? any FastJSONDecodable.Type, let value = fast.init(fastJSON: bytes) as? T {
            return value
        }
        return try decode(type, from: Data(bytes))
    }
}

extension ContractError {
    /// Describes a `DecodingError` as "field: what was wrong".
    init(_ error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String {
            let parts = codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            return parts.isEmpty ? "payload" : parts.joined(separator: ".").replacing(".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            self = .missingField(field: path(context.codingPath + [key]))
        case .typeMismatch(let type, let context):
            var found = "another type"
            if let range = context.debugDescription.firstRange(of: "but found ") {
                found = String(context.debugDescription[range.upperBound...]).replacing(" instead.", with: "")
            }
            self = .invalidValue(field: path(context.codingPath), expected: Self.describe(type), got: found)
        case .valueNotFound(let type, let context):
            self = .invalidValue(field: path(context.codingPath), expected: Self.describe(type), got: "null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self = .malformed(reason: "payload is not valid JSON")
            } else {
                self = .malformed(reason: "\(path(context.codingPath)): \(context.debugDescription)")
            }
        @unknown default:
            self = .malformed(reason: "undecodable payload")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        if type == String.self { return "a string" }
        if type == Bool.self { return "a boolean" }
        if type == Int.self || type == Int64.self || type == Int32.self || type == UInt64.self { return "an integer" }
        if type == Double.self || type == Float.self { return "a number" }
        let name = String(describing: type)
        if name.hasPrefix("Array") { return "an array" }
        if name.hasPrefix("Dictionary") { return "an object" }
        return "a valid \(name)"
    }
}

extension KeyedDecodingContainer {
    /// Decodes a non-negative integer, rejecting negative values with the field's name.
    func decodeNonNegative(_ key: Key) throws -> Int64 {
        let value = try decode(Int64.self, forKey: key)
        guard value >= 0 else {
            throw ContractError.invalidValue(
                field: key.stringValue,
                expected: "a non-negative integer",
                got: String(value)
            )
        }
        return value
    }

    /// Decodes an optional non-negative integer.
    func decodeNonNegativeIfPresent(_ key: Key) throws -> Int64? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decodeNonNegative(key)
    }

    /// Decodes an optional finite, non-negative number.
    func decodeNonNegativeNumberIfPresent(_ key: Key) throws -> Double? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        let value = try decode(Double.self, forKey: key)
        guard value.isFinite, value >= 0 else {
            throw ContractError.invalidValue(
                field: key.stringValue,
                expected: "a finite, non-negative number",
                got: String(value)
            )
        }
        return value
    }
}
