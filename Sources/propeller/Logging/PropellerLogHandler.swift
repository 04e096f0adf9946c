import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The log handler of every `propeller` service: one line per event on stderr, `text` or `json`
/// (`PROPELLER_LOG_FORMAT`), with millisecond UTC timestamps.
///
/// - text: `2026-01-15T10:35:22.123Z info propeller.manager: manager listening http.host=127.0.0.1 http.port=7070`
/// - json: `{"timestamp":"2026-01-15T10:35:22.123Z","level":"info","logger":"propeller.manager",
///   "message":"manager listening","http.host":"127.0.0.1","http.port":"7070"}` — one object per line;
///   metadata keys sit beside the fixed keys (a metadata key equal to a fixed one gets a `meta.` prefix).
///
/// Metadata whose key names a secret (`password`, `token`, `secret`, `authorization`, `api_key`) is
/// written as `<redacted>`, and a password inside a URL value (`mqtt://user:pass@host`) as `***`, so a
/// secret never reaches the log even when a caller logs it by mistake. Each line goes out in one
/// `write(2)`, so lines of concurrent threads never interleave.
struct PropellerLogHandler: LogHandler {
    /// Output formats.
    enum Format: String, CaseIterable, Sendable {
        case text, json
    }

    let label: String
    let format: Format
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, format: Format, level: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let fields = merged.sorted { $0.key < $1.key }.map { ($0.key, Self.redacted(key: $0.key, value: $0.value)) }
        let timestamp = Self.timestamp()
        var line: String
        switch format {
        case .text:
            line = "\(timestamp) \(event.level) \(label): \(event.message)"
            for (key, value) in fields { line += " \(key)=\(Self.textValue(value))" }
        case .json:
            line = "{\"timestamp\":\(Self.json(timestamp)),\"level\":\(Self.json(event.level.rawValue))"
            line += ",\"logger\":\(Self.json(label)),\"message\":\(Self.json(event.message.description))"
            for (key, value) in fields {
                let name = Self.fixedKeys.contains(key) ? "meta." + key : key
                line += ",\(Self.json(name)):\(Self.json(value))"
            }
            line += "}"
        }
        line += "\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }

    static let fixedKeys: Set<String> = ["timestamp", "level", "logger", "message"]

    /// Words that mark a metadata key as secret.
    static let secretWords = ["password", "token", "secret", "authorization", "api_key", "apikey"]

    /// The value to print for a metadata entry, with secrets removed.
    static func redacted(key: String, value: Logger.Metadata.Value) -> String {
        let lowered = key.lowercased()
        let text = "\(value)"
        if secretWords.contains(where: lowered.contains) && text != "<set>" && text != "<unset>" { return "<redacted>" }
        return redactURLPassword(in: text)
    }

    /// `scheme://user:password@host…` → `scheme://user:***@host…` (every URL in the text).
    static func redactURLPassword(in text: String) -> String {
        guard text.contains("://"), text.contains("@") else { return text }
        var result = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            result += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == " " || $0 == "?" || $0 == "#" } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                result += authority[...colon] + "***" + authority[at...]
            } else {
                result += authority
            }
            rest = rest[authorityEnd...]
        }
        return result + rest
    }

    private static func textValue(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "\n" }) ? json(value) : value
    }

    /// A JSON string literal.
    static func json(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Now, RFC 3339 UTC with milliseconds.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + "\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
