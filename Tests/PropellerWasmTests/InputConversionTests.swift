import PropellerCore
import Testing
import WasmKit

@testable import PropellerWasm

/// Unit tests of converting task inputs to Wasm values.
@Suite("Input conversion")
struct InputConversionTests {
    @Test(
        "valid inputs become the right bit patterns",
        arguments: [
            (TaskInput.integer(30), ValueType.i32, Value.i32(30)),
            (.integer(-1), .i32, .i32(UInt32.max)),
            (.integer(4_294_967_295), .i32, .i32(UInt32.max)),
            (.string("-2147483648"), .i32, .i32(UInt32(bitPattern: Int32.min))),
            (.number(12.0), .i32, .i32(12)),
            (.string("1e3"), .i32, .i32(1000)),
            (.string("  42\n"), .i64, .i64(42)),
            (.string("+5"), .i64, .i64(5)),
            (.integer(Int64.min), .i64, .i64(UInt64(bitPattern: Int64.min))),
            (.string("18446744073709551615"), .i64, .i64(UInt64.max)),
            (.number(1.5), .f64, .f64(1.5.bitPattern)),
            (.integer(3), .f64, .f64(3.0.bitPattern)),
            (.string("-0.25"), .f64, .f64((-0.25).bitPattern)),
            (.string("inf"), .f64, .f64(Double.infinity.bitPattern)),
            (.number(0.1), .f32, .f32(Float(0.1).bitPattern)),
            (.string("2.5"), .f32, .f32(Float(2.5).bitPattern)),
        ]
    )
    func converts(input: TaskInput, type: ValueType, expected: Value) {
        #expect(InputConversion.value(of: input, as: type) == expected)
    }

    @Test(
        "unparsable or out-of-range inputs are rejected",
        arguments: [
            (TaskInput.string("abc"), ValueType.i32),
            (.string(""), .i64),
            (.string("   "), .f64),
            (.number(1.5), .i32),
            (.string("2.5"), .i64),
            (.integer(4_294_967_296), .i32),
            (.integer(-2_147_483_649), .i32),
            (.string("18446744073709551616"), .i64),
            (.string("-9223372036854775809"), .i64),
            (.number(1e39), .f32),
            (.string("0x10"), .f64),
            (.string("12abc"), .f64),
            (.integer(1), .v128),
        ]
    )
    func rejects(input: TaskInput, type: ValueType) {
        #expect(InputConversion.value(of: input, as: type) == nil)
    }

    @Test("a wrong count names the export, the parameter types and what was given")
    func wrongCount() {
        #expect(throws: WasmRunError.wrongInputCount(export: "add", expected: ["i64", "i64"], given: ["1"])) {
            try InputConversion.arguments(for: [.integer(1)], parameters: [.i64, .i64], export: "add")
        }
        let error = WasmRunError.wrongInputCount(export: "add", expected: ["i64", "i64"], given: ["1"])
        #expect(error.description == "export \"add\" takes 2 inputs (i64, i64), got 1: [1]")
    }

    @Test("an unparsable value names its position, the expected type and the value")
    func unparsable() throws {
        do {
            _ = try InputConversion.arguments(
                for: [.integer(1), .string("x")],
                parameters: [.i32, .f32],
                export: "mix"
            )
            Issue.record("expected a conversion error")
        } catch {
            #expect(
                error.description
                    == "export \"mix\" (i32, f32): input 2 must be an f32 (a number of magnitude at most "
                    + "3.4028235e+38, or nan/inf), got \"x\""
            )
        }
    }

    @Test("a reference parameter is reported as unsupported")
    func unsupportedParameter() {
        #expect(throws: WasmRunError.unsupportedParameter(export: "f", position: 0, type: "v128")) {
            try InputConversion.arguments(for: [.integer(1)], parameters: [.v128], export: "f")
        }
    }

    @Test("inputs convert in order for a mixed signature")
    func mixed() throws {
        let values = try InputConversion.arguments(
            for: [.integer(-1), .string("7"), .number(0.5), .integer(2)],
            parameters: [.i32, .i64, .f32, .f64],
            export: "mixed"
        )
        #expect(values == [.i32(UInt32.max), .i64(7), .f32(Float(0.5).bitPattern), .f64(2.0.bitPattern)])
    }
}
