/// A type with a hand-written JSON encoder for its hot path (samples on the proplet, metrics pages on
/// the manager). `WireCoding.encode` uses it instead of `JSONEncoder`; it writes the same bytes
/// `JSONEncoder` writes with WireCoding's settings (compact, sorted keys, slashes unescaped), which
/// `FastSampleEncodingTests` checks byte for byte.
protocol FastJSONEncodable: Encodable {
    func writeJSON(to writer: inout JSONWriter)
}

/// Compact JSON, written the way Foundation's `JSONEncoder` writes it: numbers as `description` with
/// a trailing `.0` dropped (`1`, `0.1`, `1e-05`, `1e+20`), strings with `"`, `\` and control characters
/// escaped (short forms `\b \t \n \f \r`, otherwise `\u00xx`) and everything else as UTF-8.
///
/// The caller writes keys in sorted order; the writer places the commas.
struct JSONWriter {
    private(set) var bytes: [UInt8]
    /// True right after `{` or `[`: the next member or element needs no comma.
    private var atStart = true

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        atStart = true
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        atStart = false
    }

    mutating func beginArray() {
        bytes.append(UInt8(ascii: "["))
        atStart = true
    }

    mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        atStart = false
    }

    /// Starts an array element: a comma unless it is the first.
    mutating func element() {
        if !atStart { bytes.append(UInt8(ascii: ",")) }
        atStart = false
    }

    /// Writes `"key":` (with a comma before it unless it is the object's first member); `key` needs no
    /// escaping.
    mutating func key(_ key: StaticString) {
        element()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// `"key":value` for an integer that is present; nothing for nil (as `encodeIfPresent` does).
    mutating func member(_ key: StaticString, _ value: (some BinaryInteger)?) {
        guard let value else { return }
        self.key(key)
        integer(value)
    }

    /// `"key":value` for a number that is present (written `finiteForJSON`, as the Codable encoders
    /// write it); nothing for nil.
    mutating func member(_ key: StaticString, number value: Double?) {
        guard let value else { return }
        self.key(key)
        number(value.finiteForJSON)
    }

    /// `"key":"value"`.
    mutating func member(_ key: StaticString, _ value: String) {
        self.key(key)
        string(value)
    }

    mutating func null() {
        bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
    }

    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case 0x08: escape(UInt8(ascii: "b"))
            case 0x09: escape(UInt8(ascii: "t"))
            case 0x0A: escape(UInt8(ascii: "n"))
            case 0x0C: escape(UInt8(ascii: "f"))
            case 0x0D: escape(UInt8(ascii: "r"))
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func escape(_ letter: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(letter)
    }

    mutating func integer(_ value: some BinaryInteger) {
        if value >= 0, value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A finite number (callers pass `finiteForJSON` values, as the Codable encoders do).
    mutating func number(_ value: Double) {
        let text = value.description.utf8
        if text.count > 2, text.last == UInt8(ascii: "0"), text.dropLast().last == UInt8(ascii: ".") {
            bytes.append(contentsOf: text.dropLast(2))
        } else {
            bytes.append(contentsOf: text)
        }
    }
}
