/// A forward-only reader of one JSON text, for the hot decoding paths (a sample per MQTT message).
///
/// It reads the plain subset of JSON that encoders produce — strings without escapes, integers and
/// decimal numbers, `null`, objects and arrays — strictly by RFC 8259's grammar, and answers nil for
/// anything else (an escaped string, a malformed number, invalid UTF-8). A fast path built on it
/// returns nil in turn, and the caller decodes the same bytes with the strict Codable decoder, which
/// also words the error. So the scanner never has to be complete, only never wrong.
struct JSONScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Whether only whitespace is left.
    var isAtEnd: Bool {
        mutating get {
            skipWhitespace()
            return index == bytes.count
        }
    }

    /// Consumes `byte` (after whitespace) when it is next.
    mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Consumes `null` when it is next.
    mutating func consumeNull() -> Bool {
        skipWhitespace()
        guard index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
            bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
        else { return false }
        index += 4
        return true
    }

    /// The bytes of a string without escapes, quotes excluded; nil for anything else.
    mutating func plainStringBytes() -> ArraySlice<UInt8>? {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                index = end + 1
                return bytes[start..<end]
            }
            // An escape is left to the strict decoder; a raw control character is not JSON.
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            end += 1
        }
        return nil
    }

    /// A string without escapes, valid UTF-8; nil for anything else.
    mutating func plainString() -> String? {
        guard let slice = plainStringBytes() else { return nil }
        return String(validating: slice, as: UTF8.self)
    }

    /// An integer literal (no fraction, no exponent) that fits in 64 bits; nil for anything else.
    mutating func integer() -> Int64? {
        guard let (start, end, isInteger) = numberLiteral(), isInteger else { return nil }
        var position = start
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        var value: Int64 = 0
        while position < end {
            let digit = Int64(bytes[position] &- UInt8(ascii: "0"))
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) =
                negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowA, !overflowB else { return nil }
            value = next
            position += 1
        }
        return value
    }

    /// Any number literal as a finite `Double`; nil for anything else.
    mutating func number() -> Double? {
        guard let (start, end, _) = numberLiteral() else { return nil }
        let text = String(decoding: bytes[start..<end], as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// Skips one value of any kind (nested at most `depth` deep); false when it is not plain JSON.
    mutating func skipValue(depth: Int = 32) -> Bool {
        guard depth > 0 else { return false }
        skipWhitespace()
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "\""): return plainStringBytes() != nil
        case UInt8(ascii: "{"):
            index += 1
            if consume(UInt8(ascii: "}")) { return true }
            repeat {
                guard plainStringBytes() != nil, consume(UInt8(ascii: ":")), skipValue(depth: depth - 1) else {
                    return false
                }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            index += 1
            if consume(UInt8(ascii: "]")) { return true }
            repeat {
                guard skipValue(depth: depth - 1) else { return false }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "]"))
        case UInt8(ascii: "t"): return consumeWord("true")
        case UInt8(ascii: "f"): return consumeWord("false")
        case UInt8(ascii: "n"): return consumeNull()
        default: return numberLiteral() != nil
        }
    }

    /// Reads the members of an object, calling `member` with each key's bytes with the scanner at the
    /// value; `member` must consume the value and return true. False when the text is not a plain
    /// object or `member` returns false.
    mutating func forEachMember(_ member: (ArraySlice<UInt8>, inout JSONScanner) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        if consume(UInt8(ascii: "}")) { return true }
        repeat {
            guard let key = plainStringBytes(), consume(UInt8(ascii: ":")), member(key, &self) else { return false }
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "}"))
    }

    private mutating func consumeWord(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = word.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else { return false }
        index += count
        return true
    }

    /// The bounds of a number literal by JSON's grammar (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`)
    /// and whether it is an integer; consumes it. Nil (and nothing consumed) when it is not one.
    private mutating func numberLiteral() -> (Int, Int, Bool)? {
        skipWhitespace()
        let bytes = self.bytes
        let start = index
        var position = index
        func isDigit(_ at: Int) -> Bool {
            at < bytes.count && bytes[at] >= UInt8(ascii: "0") && bytes[at] <= UInt8(ascii: "9")
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard isDigit(position) else { return nil }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while isDigit(position) { position += 1 }
        }
        var isInteger = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard isDigit(position) else { return nil }
            while isDigit(position) { position += 1 }
            isInteger = false
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard isDigit(position) else { return nil }
            while isDigit(position) { position += 1 }
            isInteger = false
        }
        index = position
        return (start, position, isInteger)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }
}
