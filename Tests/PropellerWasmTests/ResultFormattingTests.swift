import Testing
import WasmKit

@testable import PropellerWasm

/// Unit tests of turning return values and captured output into `results` text.
@Suite("Result formatting")
struct ResultFormattingTests {
    @Test(
        "values are shown as signed decimals and shortest floats",
        arguments: [
            (Value.i32(30), "30"),
            (.i32(UInt32.max), "-1"),
            (.i64(UInt64(bitPattern: Int64.min)), "-9223372036854775808"),
            (.f32(Float(0.1).bitPattern), "0.1"),
            (.f64(0.30000000000000004.bitPattern), "0.30000000000000004"),
            (.f64(30.0.bitPattern), "30.0"),
            (.f64(Double.nan.bitPattern), "nan"),
            (.f32((-Float.infinity).bitPattern), "-inf"),
        ]
    )
    func text(value: Value, expected: String) {
        #expect(ResultFormatting.text(value) == expected)
    }

    @Test("only the first return value is the result; none gives nil")
    func firstValue() {
        #expect(ResultFormatting.results([.i32(1), .i32(2)]) == "1")
        #expect(ResultFormatting.results([]) == nil)
    }

    @Test("output within the limit is kept whole")
    func withinLimit() {
        let output = OutputCapture.Output(bytes: Array("hello\n".utf8), totalBytes: 6)
        #expect(WasmTaskRunner.text(of: output, limit: 100) == "hello\n")
    }

    @Test("output over the limit is cut at a character boundary and ends with a note, within the limit")
    func overLimit() {
        // 40 two-byte characters: any odd cut would split one.
        let bytes = Array(String(repeating: "é", count: 40).utf8)
        let output = OutputCapture.Output(bytes: Array(bytes.prefix(80)), totalBytes: 500)
        for limit in [76, 77, 80] {
            let text = WasmTaskRunner.text(of: output, limit: limit)
            #expect(text.utf8.count <= limit)
            #expect(!text.contains("\u{FFFD}"))
            #expect(text.hasSuffix("[stdout truncated: 500 bytes written, only the first \(limit) bytes are kept]"))
        }
    }

    @Test("WasmKit's parse error text is reduced to the message and offset")
    func parseErrorText() {
        let raw = #""Message(text: "magic header not detected")" at offset 0x4"#
        #expect(WasmTaskRunner.parseErrorText(raw) == "magic header not detected (at offset 0x4)")
        #expect(WasmTaskRunner.parseErrorText("unexpected end") == "unexpected end")
    }
}
