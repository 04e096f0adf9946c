import Foundation
import Testing

@testable import PropellerCore

@Suite("Inputs, identifiers and JSON values")
struct ValueTypesTests {
    @Test("inputs keep integers exact and accept strings; other JSON is rejected")
    func inputs() throws {
        let decoded = try WireCoding.decode(
            [TaskInput].self,
            from: Data(#"[10, -3, 2.5, "x", 9223372036854775807]"#.utf8)
        )
        #expect(decoded == [.integer(10), .integer(-3), .number(2.5), .string("x"), .integer(Int64.max)])
        #expect(throws: ContractError.self) { try WireCoding.decode([TaskInput].self, from: Data("[true]".utf8)) }
        #expect(throws: ContractError.self) { try WireCoding.decode([TaskInput].self, from: Data("[[1]]".utf8)) }
    }

    @Test("identifiers must be non-empty, short and free of MQTT wildcards")
    func identifiers() {
        #expect(throws: Never.self) { try Identifier.validate("550e8400-e29b-41d4-a716-446655440001", field: "id") }
        for bad in ["", "a/b", "a+", "#", String(repeating: "x", count: 129), "a\u{0}b"] {
            #expect(throws: ContractError.self) { try Identifier.validate(bad, field: "id") }
        }
    }

    @Test("JSON values keep the distinction between integers, fractions, strings and booleans")
    func jsonValue() throws {
        let value = try JSONDecoder().decode(
            JSONValue.self,
            from: Data(#"{"a":1,"b":1.5,"c":"1","d":true,"e":null}"#.utf8)
        )
        #expect(
            value
                == .object(["a": .integer(1), "b": .number(1.5), "c": .string("1"), "d": .bool(true), "e": .null])
        )
        #expect(JSONValue.integer(3).integerValue == 3)
        #expect(JSONValue.number(2.5).integerValue == nil)
    }

    @Test("task states: finished states are completed, failed and stopped")
    func states() {
        #expect(TaskState.allCases.filter(\.isFinished) == [.completed, .failed, .stopped])
    }
}
