import Foundation
import WAT

/// The WebAssembly test modules in `Tests/Fixtures`, written as `.wat` text and compiled at test time
/// with WasmKit's `WAT` module (the same bytes wabt's `wat2wasm` produces).
///
/// Available fixtures (each `.wat` file documents its exports in its header):
/// - `add`: `add(i64, i64) -> i64`.
/// - `types`: `add_i32`, `add_f32`, `add_f64`, `negate_i64`, `nothing` — one export per number type.
/// - `burn`: `burn(ms: i64) -> i64` spins on the CPU for `ms` milliseconds of monotonic time.
/// - `memory`: `hold(mib: i32, ms: i64) -> i32` grows memory to `mib` MiB, touches every page, then
///   sleeps `ms` ms (forever when `ms` < 0) with `poll_oneoff`.
/// - `echo`: WASI command printing `arg <value>` / `env <KEY=VALUE>` lines; exits with its last argv
///   element when that is a decimal number, after writing `echo: exiting with code <n>` to stderr.
/// - `daemon`: WASI command that prints `daemon started` and then sleeps forever, one second at a time.
/// - `trap`: `trap() -> i32` hits `unreachable`; `divide(i32, i32) -> i32` traps on a zero divisor.
/// - `flood`: WASI command writing 2.5 MiB to stdout and `flood done` to stderr.
/// - `bomb`: `bomb() -> i32` grows memory 1 MiB at a time, touching every page, until `memory.grow`
///   fails (only with a memory limit).
public enum Fixtures {
    /// Errors while loading a fixture.
    public enum FixtureError: Error, CustomStringConvertible {
        /// No `<name>.wat` in `Tests/Fixtures`.
        case notFound(name: String, path: String)
        /// The text did not compile.
        case invalidText(name: String, reason: String)

        /// A message naming the fixture and the problem.
        public var description: String {
            switch self {
            case .notFound(let name, let path): "no fixture named \(name) (looked for \(path))"
            case .invalidText(let name, let reason): "fixture \(name) does not compile: \(reason)"
            }
        }
    }

    /// The directory `Tests/Fixtures`, found from the location of this source file.
    public static var directory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // PropellerTestSupport
            .deletingLastPathComponent()  // Tests
            .appendingPathComponent("Fixtures", isDirectory: true)
    }

    /// The URL of the fixture's `.wat` source (`Tests/Fixtures/<name>.wat`).
    public static func url(_ name: String) -> URL {
        directory.appendingPathComponent("\(name).wat")
    }

    /// The fixture compiled to a binary Wasm module.
    public static func wasm(_ name: String) throws -> [UInt8] {
        let source = url(name)
        guard let text = try? String(contentsOf: source, encoding: .utf8) else {
            throw FixtureError.notFound(name: name, path: source.path)
        }
        do {
            return try wat2wasm(text)
        } catch {
            throw FixtureError.invalidText(name: name, reason: "\(error)")
        }
    }

    /// Compiles Wasm text written inline in a test (for one-off modules that need no fixture file).
    public static func wasm(text: String) throws -> [UInt8] {
        do {
            return try wat2wasm(text)
        } catch {
            throw FixtureError.invalidText(name: "inline module", reason: "\(error)")
        }
    }

    /// Compiles the fixture and writes it as `<name>.wasm` into `directory`; returns the file's path.
    @discardableResult
    public static func writeWasm(_ name: String, into directory: URL) throws -> URL {
        let file = directory.appendingPathComponent("\(name).wasm")
        try Data(try wasm(name)).write(to: file)
        return file
    }
}
