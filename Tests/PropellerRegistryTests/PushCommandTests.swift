import Foundation
import PropellerRegistry
import PropellerTestSupport
import Testing

/// `propeller push` as a user runs it. Enabled once the command is registered in the root command.
@Suite("propeller push", .enabled(if: PushCommandAvailability.isRegistered, "`propeller push` is not registered yet"))
struct PushCommandTests {
    @Test("pushes a .wat file, prints the manifest digest, and the module can be fetched by that digest")
    func pushWat() async throws {
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let reference = "\(registry.hostPort)/cli/add:v1"
                let result = try Self.run(["push", Fixtures.url("add").path, reference])
                #expect(result.status == 0)
                let digest = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(ImageReference.isDigest(digest))
                let module = try await context.fetcher().fetch("\(registry.hostPort)/cli/add@\(digest)")
                #expect(module == (try Fixtures.wasm("add")))
            }
        }
    }

    @Test("a file that is not Wasm is refused with a message naming it")
    func pushRejectsNonWasm() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("page-\(UUID().uuidString).wasm")
        try Data("<html></html>".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try Self.run(["push", file.path, "127.0.0.1:1/cli/bad:v1"])
        #expect(result.status != 0)
        #expect(result.error.contains("is not Wasm"))
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BinaryLocator.path(of: "propeller"))
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outputData, as: UTF8.self),
            String(decoding: errorData, as: UTF8.self)
        )
    }
}

/// Whether the built `propeller` knows the `push` subcommand.
enum PushCommandAvailability {
    static let isRegistered: Bool =
        (try? PushCommandTests.run(["push", "--help"]))?.output.contains("propeller push") == true
}
