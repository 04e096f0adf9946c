/// A parsed `WWW-Authenticate` header: the scheme (`Bearer`, `Basic`) and its parameters.
struct AuthChallenge: Sendable, Equatable {
    /// The scheme, lowercased: `bearer` or `basic`.
    var scheme: String
    /// Parameters with lowercased names, e.g. `realm`, `service`, `scope`.
    var parameters: [String: String]

    /// Parses `Scheme key="value", key2=value2`; `nil` when there is no scheme.
    init?(header: String) {
        let text = header.trimmingWhitespace()
        let schemeEnd = text.firstIndex(of: " ") ?? text.endIndex
        guard schemeEnd > text.startIndex else { return nil }
        scheme = text[..<schemeEnd].lowercased()
        parameters = [:]
        var rest = text[schemeEnd...]
        while true {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = rest[..<equals].trimmingWhitespace().lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        value.append(character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        value.append(character)
                    }
                }
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingWhitespace()
                rest = rest[end...]
            }
            parameters[name] = value
        }
    }
}
