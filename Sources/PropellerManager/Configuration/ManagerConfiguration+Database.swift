#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ManagerConfiguration {
    /// Sets `databaseURL` from `MANAGER_DATABASE_URL`: required with `MANAGER_STORAGE=postgres`, and when
    /// given it must parse whatever the storage (a wrong value is never silently kept for later). The
    /// error shows the value with its password masked.
    mutating func readDatabaseURL(_ text: String?) throws(ConfigurationError) {
        guard let text else {
            if storage == .postgres {
                throw ConfigurationError(
                    variable: "MANAGER_DATABASE_URL",
                    value: "",
                    expected: "\(DatabaseURL.expectedForm); it is required with MANAGER_STORAGE=postgres"
                )
            }
            return
        }
        guard let url = DatabaseURL(text) else {
            throw ConfigurationError(
                variable: "MANAGER_DATABASE_URL",
                value: Self.maskingPassword(text),
                expected: DatabaseURL.expectedForm
            )
        }
        databaseURL = url
    }

    /// `text` with whatever sits between `scheme://user:` and the last `@` of the authority replaced by
    /// `***`, so a URL that does not parse can still be shown without its password.
    static func maskingPassword(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else {
            return text
        }
        return String(text[..<text.index(after: colon)]) + "***" + String(text[at...])
    }
}

extension ManagerConfiguration {
    /// This machine's host name, as MQTT client ids may carry it (`[A-Za-z0-9-]`, other characters `-`).
    static let hostname: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "host" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let cleaned = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "-" })
        return cleaned.isEmpty ? "host" : cleaned
    }()
}
