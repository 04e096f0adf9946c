import PropellerCore
import WasmKit

/// Converts task inputs (JSON numbers or numeric strings) to the Wasm values an export expects.
///
/// Accepted per parameter type:
/// - `i32`: a whole number from -2147483648 to 4294967295 (values above `Int32.max` are passed as
///   their unsigned bit pattern);
/// - `i64`: a whole number from -9223372036854775808 to 18446744073709551615 (same rule);
/// - `f32`: any number whose magnitude fits a 32-bit float (it is rounded to the nearest `Float`),
///   or `nan` / `inf` / `-inf` as strings;
/// - `f64`: any number, or `nan` / `inf` / `-inf` as strings.
///
/// Strings are trimmed of surrounding whitespace and read as decimal (`"42"`, `"-7"`, `"1.5"`,
/// `"2e3"`); a whole-valued number such as `3.0` or `"1e3"` is accepted for an integer parameter.
public enum InputConversion {
    /// The values for calling an export with `parameters`, one per input, in order.
    /// - Throws: `WasmRunError.wrongInputCount`, `.invalidInput` or `.unsupportedParameter`, each naming
    ///   the export, its parameter types and what was given.
    public static func arguments(
        for inputs: [TaskInput],
        parameters: [ValueType],
        export: String
    ) throws(WasmRunError) -> [Value] {
        let typeNames = parameters.map(typeName)
        guard inputs.count == parameters.count else {
            throw .wrongInputCount(export: export, expected: typeNames, given: inputs.map(display))
        }
        var values: [Value] = []
        values.reserveCapacity(inputs.count)
        for (position, (input, type)) in zip(inputs, parameters).enumerated() {
            guard let expected = expectation(for: type) else {
                throw .unsupportedParameter(export: export, position: position, type: typeNames[position])
            }
            guard let value = value(of: input, as: type) else {
                throw .invalidInput(
                    export: export,
                    position: position,
                    expected: expected,
                    given: display(input),
                    expectedTypes: typeNames
                )
            }
            values.append(value)
        }
        return values
    }

    /// One input as a value of `type`, or nil when it does not parse or is out of the type's range
    /// (and always nil for types other than i32, i64, f32 and f64).
    public static func value(of input: TaskInput, as type: ValueType) -> Value? {
        switch type {
        case .i32:
            guard let whole = wholeNumber(input), whole >= Int128(Int32.min), whole <= Int128(UInt32.max) else {
                return nil
            }
            return .i32(UInt32(truncatingIfNeeded: whole))
        case .i64:
            guard let whole = wholeNumber(input), whole >= Int128(Int64.min), whole <= Int128(UInt64.max) else {
                return nil
            }
            return .i64(UInt64(truncatingIfNeeded: whole))
        case .f32:
            guard let number = floatingNumber(input) else { return nil }
            let single = Float(number)
            // A finite input too large for a Float would silently become infinity.
            guard single.isFinite || !number.isFinite else { return nil }
            return .f32(single.bitPattern)
        case .f64:
            guard let number = floatingNumber(input) else { return nil }
            return .f64(number.bitPattern)
        default:
            return nil
        }
    }

    /// The Wasm text-format name of a value type (`i32`, `f64`, `v128`, `funcref`, …).
    public static func typeName(_ type: ValueType) -> String {
        switch type {
        case .i32: "i32"
        case .i64: "i64"
        case .f32: "f32"
        case .f64: "f64"
        case .v128: "v128"
        case .ref(let reference): "\(reference)"
        }
    }

    /// What an input for `type` must be, in words; nil for types no input can provide.
    static func expectation(for type: ValueType) -> String? {
        switch type {
        case .i32: "an i32 (a whole number from -2147483648 to 4294967295)"
        case .i64: "an i64 (a whole number from -9223372036854775808 to 18446744073709551615)"
        case .f32: "an f32 (a number of magnitude at most 3.4028235e+38, or nan/inf)"
        case .f64: "an f64 (a number, or nan/inf)"
        default: nil
        }
    }

    /// How an input is shown in messages: numbers as written, strings quoted.
    static func display(_ input: TaskInput) -> String {
        switch input {
        case .integer(let number): String(number)
        case .number(let number): String(number)
        case .string(let text): "\"\(text)\""
        }
    }

    private static func wholeNumber(_ input: TaskInput) -> Int128? {
        switch input {
        case .integer(let number):
            return Int128(number)
        case .number(let number):
            return Int128(exactly: number)
        case .string(let raw):
            let text = trimmed(raw)
            if let whole = Int128(text) { return whole }
            guard let number = parseDouble(text) else { return nil }
            return Int128(exactly: number)
        }
    }

    private static func floatingNumber(_ input: TaskInput) -> Double? {
        switch input {
        case .integer(let number): Double(number)
        case .number(let number): number
        case .string(let raw): parseDouble(trimmed(raw))
        }
    }

    /// A decimal number; rejects Swift's hexadecimal float syntax so only ordinary decimals pass.
    private static func parseDouble(_ text: String) -> Double? {
        guard !text.isEmpty, !text.lowercased().contains("0x") else { return nil }
        return Double(text)
    }

    private static func trimmed(_ text: String) -> String {
        var scalars = Substring(text)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
