import Foundation
import PropellerLauncher
import PropellerRegistry
import PropellerTestSupport
import Testing

/// `propeller push` as a user runs it: the built binary, started with `ProcessLauncher`.
@Suite("propeller push")
struct PushCommandTests {
    @Test("pushes a .wat file, prints the manifest digest, and the module can be fetched by that digest")
    func pushWat() async throws {
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let reference = "\(registry.hostPort)/cli/add:v1"
                let result = try await Self.run(["push", Fixtures.url("add").path, reference])
                #expect(result.status == 0, "\(result.error)")
                let digest = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(ImageReference.isDigest(digest))
                // A small module uploads without progress lines.
                #expect(result.error.isEmpty, "stderr: \(result.error)")
                let module = try await context.fetcher().fetch("\(registry.hostPort)/cli/add@\(digest)")
                #expect(module == (try Fixtures.wasm("add")))
            }
        }
    }

    @Test(
        "a module over 1 MiB shows its upload's progress on stderr, a last 100% line, and no more than two lines a second"
    )
    func pushShowsProgress() async throws {
        let size = 24 << 20
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("large-\(UUID().uuidString).wasm")
        try Data(PaddedModule.bytes(size)).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let reference = "\(registry.hostPort)/cli/large:v1"
                let started = ContinuousClock.now
                let result = try await Self.run(["push", file.path, reference])
                let elapsed = ContinuousClock.now - started
                #expect(result.status == 0, "\(result.error)")
                let lines = result.error.split(separator: "\n").map(String.init)
                let prefix = "pushing module.wasm (sha256:"
                #expect(!lines.isEmpty && lines.allSatisfy { $0.hasPrefix(prefix) }, "stderr: \(result.error)")
                #expect(lines.last?.hasSuffix("): 24.0 of 24.0 MiB (100%), done") == true, "stderr: \(result.error)")
                // The first bytes sent are reported at once, then at most one line per 0.5 s.
                let during = lines.dropLast()
                #expect(!during.isEmpty, "no line while uploading: \(result.error)")
                let percents = during.compactMap { line -> Int? in
                    guard let open = line.lastIndex(of: "("), line.hasSuffix("%)") else { return nil }
                    return Int(line[line.index(after: open)..<line.index(line.endIndex, offsetBy: -2)])
                }
                #expect(percents.count == during.count, "every line while uploading has a percentage: \(during)")
                #expect(percents == percents.sorted() && percents.allSatisfy { $0 < 100 }, "\(percents)")
                #expect(
                    Double(during.count) <= 1 + elapsed / .milliseconds(500),
                    "\(during.count) lines in \(elapsed)"
                )
                let digest = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
                let module = try await context.fetcher().fetch("\(registry.hostPort)/cli/large@\(digest)")
                #expect(module.count == size)

                // The same module again: the registry has the layer, so nothing is sent.
                let again = try await Self.run(["push", file.path, "\(registry.hostPort)/cli/large:v2"])
                #expect(again.status == 0, "\(again.error)")
                #expect(
                    again.error.split(separator: "\n").map(String.init) == [
                        "\(lines.last!.prefix { $0 != ")" })): 24.0 MiB, already in the registry"
                    ],
                    "stderr: \(again.error)"
                )
            }
        }
    }

    @Test("a file that is not Wasm is refused with a message naming it")
    func pushRejectsNonWasm() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("page-\(UUID().uuidString).wasm")
        try Data("<html></html>".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await Self.run(["push", file.path, "127.0.0.1:1/cli/bad:v1"])
        #expect(result.status != 0)
        #expect(result.error.contains("is not Wasm"))
    }

    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String, error: String) {
        let result = try await ProcessLauncher.run(
            BinaryLocator.path(of: "propeller"),
            arguments: arguments,
            timeout: .seconds(120)
        )
        return (result.status, result.standardOutput, result.standardError)
    }
}

/// A valid Wasm module of an exact size: the header and one custom section of pseudo-random padding.
enum PaddedModule {
    static func bytes(_ size: Int) -> [UInt8] {
        let name = Array("pad".utf8)
        // Section id, a 5-byte LEB128 section size (padded, so its length does not depend on the value), the name.
        let overhead = 8 + 1 + 5 + 1 + name.count
        precondition(size > overhead)
        let sectionSize = UInt32(size - 8 - 1 - 5)
        var module: [UInt8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x00]
        for index in 0..<5 {
            let group = UInt8((sectionSize >> (7 * UInt32(index))) & 0x7f)
            module.append(index < 4 ? group | 0x80 : group)
        }
        module.append(UInt8(name.count))
        module += name
        module.reserveCapacity(size)
        var state: UInt32 = 0x2545_F491
        while module.count < size {
            state = state &* 1_664_525 &+ 1_013_904_223
            module.append(UInt8(truncatingIfNeeded: state >> 24))
        }
        return module
    }
}
