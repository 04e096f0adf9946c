/// Everything PropellerCore rejects: invalid values, unknown keys or names, undecodable messages.
///
/// Each case carries the field and what is accepted, so the message can be shown as it is to an API
/// client or written to a log.
public enum ContractError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A field has a value outside what is accepted.
    case invalidValue(field: String, expected: String, got: String)
    /// An object has a key the contract does not define.
    case unknownKey(field: String, accepted: [String])
    /// A profile name that is not one of the built-ins.
    case unknownProfile(name: String, accepted: [String])
    /// A required field is missing.
    case missingField(field: String)
    /// A payload that is not the JSON the contract describes.
    case malformed(reason: String)

    public var description: String {
        switch self {
        case .invalidValue(let field, let expected, let got):
            "\(field) must be \(expected), got \(got)"
        case .unknownKey(let field, let accepted):
            "unknown key \"\(field)\"; accepted keys: \(accepted.joined(separator: ", "))"
        case .unknownProfile(let name, let accepted):
            "unknown monitoring profile \"\(name)\"; accepted: \(accepted.joined(separator: ", "))"
        case .missingField(let field):
            "\(field) is required"
        case .malformed(let reason):
            reason
        }
    }

    /// The field the error is about, when there is one.
    public var field: String? {
        switch self {
        case .invalidValue(let field, _, _), .unknownKey(let field, _), .missingField(let field): field
        case .unknownProfile: "monitoring_profile"
        case .malformed: nil
        }
    }
}
