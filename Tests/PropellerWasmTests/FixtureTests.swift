import PropellerTestSupport
import Testing
import WasmKit

/// Every `.wat` fixture compiles and exports what its header documents.
@Suite("Fixtures")
struct FixtureTests {
    @Test(
        "fixtures compile and export their functions",
        arguments: [
            ("add", ["add"]),
            ("types", ["add_i32", "add_f32", "add_f64", "negate_i64", "nothing"]),
            ("burn", ["memory", "burn"]),
            ("memory", ["memory", "hold"]),
            ("echo", ["memory", "_start"]),
            ("daemon", ["memory", "_start"]),
            ("trap", ["trap", "divide"]),
            ("flood", ["memory", "_start"]),
        ]
    )
    func compiles(name: String, exports: [String]) throws {
        let module = try parseWasm(bytes: Fixtures.wasm(name))
        #expect(module.exports.map(\.name) == exports)
    }

    @Test("fixture URLs point into Tests/Fixtures and a missing fixture is a clear error")
    func locations() {
        #expect(Fixtures.url("add").path.hasSuffix("Tests/Fixtures/add.wat"))
        #expect(throws: Fixtures.FixtureError.self) { try Fixtures.wasm("no-such-fixture") }
    }
}
