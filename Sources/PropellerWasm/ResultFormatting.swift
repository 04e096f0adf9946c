import WasmKit

/// Turns an export's return value into the task's `results` text.
///
/// - `i32` and `i64`: signed decimal (`-1`, not `4294967295`);
/// - `f32` and `f64`: the shortest decimal that reads back to the same value (`3.75`, `0.1`, `30.0`),
///   `nan`, `inf` or `-inf`;
/// - other types (v128, references): a short description such as `v128` or `null funcref`.
public enum ResultFormatting {
    /// The text of the first of `values`, or nil when the export returns nothing.
    public static func results(_ values: [Value]) -> String? {
        values.first.map(text)
    }

    /// The text of one value.
    public static func text(_ value: Value) -> String {
        switch value {
        case .i32(let bits): String(Int32(bitPattern: bits))
        case .i64(let bits): String(Int64(bitPattern: bits))
        case .f32(let bits): floating(Float(bitPattern: bits))
        case .f64(let bits): floating(Double(bitPattern: bits))
        case .v128: "v128"
        case .ref(let reference): "\(reference)"
        }
    }

    private static func floating<F: BinaryFloatingPoint & LosslessStringConvertible>(_ number: F) -> String {
        if number.isNaN { return "nan" }
        if number.isInfinite { return number < 0 ? "-inf" : "inf" }
        return number.description
    }
}
