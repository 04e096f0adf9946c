#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in time with microsecond precision, carried on the wire as an RFC 3339 UTC string
/// with six fractional digits (`2025-01-15T10:35:22.123456Z`).
///
/// Stored as an integer count of microseconds since the Unix epoch, so equality is exact: the
/// manager deduplicates samples by (`task_id`, `timestamp`), which a floating-point date could not do.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microsecondsSinceEpoch: Int64

    /// Creates a timestamp from microseconds since the Unix epoch.
    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    /// Creates a timestamp from seconds since the Unix epoch (rounded to the microsecond).
    public init(secondsSinceEpoch: Double) {
        self.microsecondsSinceEpoch = Int64((secondsSinceEpoch * 1_000_000).rounded())
    }

    /// The current wall-clock time (`CLOCK_REALTIME`).
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(microsecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)
    }

    /// Seconds since the Unix epoch.
    public var secondsSinceEpoch: Double { Double(microsecondsSinceEpoch) / 1_000_000 }

    /// This timestamp moved by a number of seconds.
    public func adding(seconds: Double) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: microsecondsSinceEpoch + Int64((seconds * 1_000_000).rounded()))
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// The RFC 3339 form in UTC with six fractional digits.
    public var rfc3339: String {
        var seconds = microsecondsSinceEpoch / 1_000_000
        var micros = microsecondsSinceEpoch % 1_000_000
        if micros < 0 {
            micros += 1_000_000
            seconds -= 1
        }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return Self.pad(Int(parts.tm_year) + 1900, 4) + "-" + Self.pad(Int(parts.tm_mon) + 1, 2) + "-"
            + Self.pad(Int(parts.tm_mday), 2) + "T" + Self.pad(Int(parts.tm_hour), 2) + ":"
            + Self.pad(Int(parts.tm_min), 2) + ":" + Self.pad(Int(parts.tm_sec), 2) + "."
            + Self.pad(Int(micros), 6) + "Z"
    }

    public var description: String { rfc3339 }

    /// Days in a month of the proleptic Gregorian calendar (February has 29 in leap years).
    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Parses an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    ///
    /// A fraction longer than six digits is truncated to microseconds. Returns nil for anything else
    /// (no bare dates, no numbers, no missing zone).
    public init?(rfc3339 text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<start + count] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0, 4), bytes[4] == 45, let month = number(5, 2), bytes[7] == 45,
            let day = number(8, 2), bytes[10] == 84 || bytes[10] == 116 || bytes[10] == 32,
            let hour = number(11, 2), bytes[13] == 58, let minute = number(14, 2), bytes[16] == 58,
            let second = number(17, 2)
        else { return nil }
        guard (1...12).contains(month), (1...Self.days(inMonth: month, year: year)).contains(day), hour < 24,
            minute < 60, second < 61
        else {
            return nil
        }
        var index = 19
        var micros = 0
        if index < bytes.count, bytes[index] == 46 {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 6 { micros = micros * 10 + Int(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offsetSeconds = 0
        switch bytes[index] {
        case 90, 122:  // Z, z
            index += 1
        case 43, 45:  // +, -
            guard let offsetHour = number(index + 1, 2), bytes.count > index + 3, bytes[index + 3] == 58,
                let offsetMinute = number(index + 4, 2), offsetHour < 24, offsetMinute < 60
            else { return nil }
            offsetSeconds = (offsetHour * 3600 + offsetMinute * 60) * (bytes[index] == 45 ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == bytes.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let epochSeconds = Int64(timegm(&parts)) - Int64(offsetSeconds)
        self.init(microsecondsSinceEpoch: epochSeconds * 1_000_000 + Int64(micros))
    }

    /// Whether an RFC 3339 text is in UTC: it ends in `Z` (or `z`), or carries a zero offset.
    public static func isUTC(_ text: some StringProtocol) -> Bool {
        text.hasSuffix("Z") || text.hasSuffix("z") || text.hasSuffix("+00:00") || text.hasSuffix("-00:00")
    }

    /// Decodes an RFC 3339 timestamp **in UTC** (SPEC §2: timestamps on the wire are UTC); a local
    /// offset such as `+02:00` is rejected with a message saying what is accepted.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = Timestamp(rfc3339: text), Self.isUTC(text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription:
                    "expected an RFC 3339 timestamp in UTC like 2025-01-15T10:35:22.123456Z, got \"\(text)\""
            )
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339)
    }
}
