/// One task input: a JSON number or string (SPEC §4 `inputs`), converted by the runner to the
/// export's parameter type.
public enum TaskInput: Sendable, Hashable, Codable, CustomStringConvertible {
    case integer(Int64)
    case number(Double)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        switch value {
        case .integer(let number): self = .integer(number)
        case .number(let number): self = .number(number)
        case .string(let text): self = .string(text)
        default:
            throw ContractError.invalidValue(field: "inputs", expected: "numbers or strings", got: value.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let number): try container.encode(number)
        case .number(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        }
    }

    /// The input as text, as a WASI command receives it in argv.
    public var description: String {
        switch self {
        case .integer(let number): String(number)
        case .number(let number): String(number)
        case .string(let text): text
        }
    }
}
