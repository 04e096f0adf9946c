import Foundation
import Testing

@Suite("The task runner stays lean")
struct RunnerFootprintTests {
    /// The modules linked into `propeller-wasm`, the process every task runs in.
    static let runnerModules = ["Sources/PropellerCore", "Sources/PropellerWasm", "Sources/propeller-wasm"]

    /// Full Foundation costs ≈6 MiB of RSS in every task process (14.5 → 20.9 MiB idle, measured in
    /// docs/benchmarks.md). A release runner loads it as soon as one of its modules imports `Foundation`
    /// where `FoundationEssentials` exists; only the `#else` branch of that check may name it.
    @Test("no module of the runner imports full Foundation on Linux", arguments: runnerModules)
    func noFullFoundation(module: String) throws {
        let directory = repositoryRoot.appendingPathComponent(module)
        let files = try #require(FileManager.default.enumerator(atPath: directory.path))
        var checked = 0
        for case let file as String in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for (index, line) in lines.enumerated() where line == "import Foundation" {
                let guarded =
                    index >= 3 && lines[index - 1] == "#else" && lines[index - 2] == "import FoundationEssentials"
                    && lines[index - 3] == "#if canImport(FoundationEssentials)"
                #expect(guarded, "\(module)/\(file):\(index + 1) imports full Foundation")
            }
            checked += 1
        }
        #expect(checked > 0)
    }
}
