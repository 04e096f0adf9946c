import Foundation
import PropellerTestSupport
import Testing
import WAT

@Suite("docs/openapi.yaml", .timeLimit(.minutes(5)))
struct OpenAPITests {
    @Test("the OpenAPI document is valid and a live manager's responses match it")
    func liveResponsesMatch() async throws {
        let python = ProcessInfo.processInfo.environment["PROPELLER_PYTHON"] ?? ".venv/bin/python"
        let pythonPath = python.hasPrefix("/") ? python : repositoryRoot.appendingPathComponent(python).path
        try #require(
            FileManager.default.isExecutableFile(atPath: pythonPath),
            "no Python venv at \(pythonPath): run `make venv` (make test does)"
        )
        let add = try String(contentsOf: repositoryRoot.appendingPathComponent("Examples/add.wat"), encoding: .utf8)
        let wasm = Data(try wat2wasm(add)).base64EncodedString()
        try await withDevStack { stack in
            let result = try await runCommand(
                pythonPath,
                ["Tests/openapi/check_live.py", "docs/openapi.yaml", stack.managerURL, wasm],
                directory: repositoryRoot,
                timeout: .seconds(120)
            )
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)\n--- dev log ---\n\(stack.log)")
            #expect(result.stdout.contains("responses match docs/openapi.yaml"))
        }
    }
}
