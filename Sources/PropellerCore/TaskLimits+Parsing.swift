/// Text forms of limits, for environment variables (`PROPLET_TASK_*`) and the CLI (`--limit-memory 64MiB`).
extension TaskLimits {
    /// Multipliers of the accepted size suffixes (case-insensitive): binary `KiB`, `MiB`, `GiB`, `TiB`,
    /// decimal `KB`, `MB`, `GB`, `TB`, and `B`.
    public static let byteSuffixes: [(suffix: String, factor: Int64)] = [
        ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("tib", 1 << 40),
        ("kb", 1_000), ("mb", 1_000_000), ("gb", 1_000_000_000), ("tb", 1_000_000_000_000), ("b", 1),
    ]

    /// What `parseBytes` accepts, in words.
    public static let bytesSyntax =
        "a whole number of bytes, optionally with KiB, MiB, GiB, TiB, KB, MB, GB or TB (67108864, 64MiB)"

    /// What `parseSeconds` accepts, in words.
    public static let secondsSyntax = "whole seconds, like 30 or 30s"

    /// A size such as `67108864`, `64MiB` or `1GB`; nil when it does not parse or does not fit 63 bits.
    public static func parseBytes(_ text: String) -> Int64? {
        let lowered = text.lowercased().filter { $0 != " " }
        var digits = Substring(lowered)
        var factor: Int64 = 1
        for (suffix, multiplier) in byteSuffixes where lowered.hasSuffix(suffix) {
            digits = lowered.dropLast(suffix.count)
            factor = multiplier
            break
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let number = Int64(digits) else {
            return nil
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: factor)
        return overflow ? nil : bytes
    }

    /// Whole seconds, `30` or `30s`; nil otherwise.
    public static func parseSeconds(_ text: String) -> Int? {
        let digits = text.hasSuffix("s") ? text.dropLast() : Substring(text)
        guard !digits.isEmpty, digits.count <= 12, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(digits)
    }
}
