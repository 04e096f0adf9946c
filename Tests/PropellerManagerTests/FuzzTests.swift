import Foundation
import HummingbirdTesting
import PropellerCore
import PropellerTestSupport
import Testing

@testable import PropellerManager

@Suite("API fuzzing")
struct FuzzTests {
    static let fragments = [
        "null", "true", "false", "0", "-1", "1e308", "-0.0", "2.5", "1e999", "\"\"", "\"x\"", "[]", "{}", "[1,\"a\"]",
        "{\"a\":1}", "\"AGFzbQEAAAA=\"", "\"intensive\"", "{\"interval\":0}", "{\"interval\":121}",
        "{\"history_size\":-5}", "\"\\u0000\"", "\"\\ud800\"", "123456789012345678901234567890",
        String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
    ]
    static let keys = [
        "name", "file", "image_url", "inputs", "env", "cli_args", "daemon", "monitoring_profile", "id", "state",
        "results", "proplet_id", "created_at", "x", "", "NAME", "file\u{0}",
    ]
    static let queryKeys = ["offset", "limit", "state", "from", "to", "order", "x", "", "limit[]", "%zz"]
    static let queryValues = [
        "0", "1", "-1", "1000", "1001", "99999999999999999999", "abc", "", "asc", "desc", "running", "%00",
        "2025-01-15T10:35:22.123456Z", "2025-02-30T00:00:00Z", "2025-01-15T10:35:22+01:00", "%2B", "1e3", "+5",
    ]

    func randomBody(_ rng: inout SeededGenerator) -> String {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0:
            // A valid body with random mutations of its bytes.
            var bytes = Array(taskBody(extra: #""inputs": [1, "a"], "monitoring_profile": {"interval": 5}"#).utf8)
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let index = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 32...126, using: &rng), at: index)
                }
                if bytes.isEmpty { break }
            }
            return String(decoding: bytes, as: UTF8.self)
        case 1:
            // An object of random known and unknown keys with random values.
            let pairs = (0..<Int.random(in: 0...6, using: &rng)).map { _ in
                "\"\(Self.keys.randomElement(using: &rng)!)\": \(Self.fragments.randomElement(using: &rng)!)"
            }
            return "{" + pairs.joined(separator: ", ") + "}"
        case 2:
            // A truncated valid body.
            let body = taskBody(extra: #""env": {"A": "b"}, "daemon": true"#)
            return String(body.prefix(Int.random(in: 0..<body.count, using: &rng)))
        default:
            return Self.fragments.randomElement(using: &rng)!
        }
    }

    func randomQuery(_ rng: inout SeededGenerator) -> String {
        (0..<Int.random(in: 0...4, using: &rng)).map { _ in
            "\(Self.queryKeys.randomElement(using: &rng)!)=\(Self.queryValues.randomElement(using: &rng)!)"
        }.joined(separator: "&")
    }

    @Test("1,200 random and mutated bodies and query strings: never a 5xx, stored tasks unchanged")
    func fuzz() async throws {
        let manager = TestManager(store: try StoreKind.sqlite.make())
        try await manager.withClient { client in
            var originals: [WasmTask] = []
            for index in 0..<3 { originals.append(try await client.createTask(taskBody(name: "keep\(index)"))) }
            var rng = SeededGenerator(seed: 0x5EED)
            var statuses: [Int: Int] = [:]
            for iteration in 0..<1200 {
                let response: TestResponse
                let target: String
                switch iteration % 4 {
                case 0, 1:
                    target = "POST /tasks"
                    let body = randomBody(&rng)
                    response = try await client.send("/tasks", .post, body: body)
                    if response.status.code >= 500 { Issue.record("5xx for body \(body.prefix(200))") }
                case 2:
                    let paths = ["/tasks", "/proplets", "/tasks/\(originals[0].id)/metrics", "/proplets/p/metrics"]
                    target = "GET \(paths.randomElement(using: &rng)!)?\(randomQuery(&rng))"
                    response = try await client.send(String(target.dropFirst(4)), .get)
                default:
                    let ids = [
                        originals[1].id, "x", "%00", UUID().uuidString, "a/b", String(repeating: "9", count: 300),
                    ]
                    let suffixes = ["", "/results", "/metrics", "/start", "/stop"]
                    target = "GET /tasks/\(ids.randomElement(using: &rng)!)\(suffixes.randomElement(using: &rng)!)"
                    response = try await client.send(String(target.dropFirst(4)), .get)
                }
                statuses[response.status.code, default: 0] += 1
                #expect(response.status.code < 500, "\(target) → \(response.status)")
                if response.status.code >= 400 { #expect(response.errorMessage?.isEmpty == false, "\(target)") }
            }
            #expect(statuses.keys.contains(400))
            #expect(try await client.send("/health", .get).status == .ok)
            for original in originals {
                #expect(try await manager.store.task(id: original.id) == original)
            }
        }
    }
}
