import Foundation
import PropellerLauncher

/// A C program compiled by a test with the system's `cc` into its own temporary directory.
///
/// Call `remove()` when done (usually in a `defer`).
public struct CProgram: Sendable {
    /// Path of the built executable.
    public let path: String
    /// The temporary directory holding the source and the executable.
    public let directory: URL

    /// Compiles `source` (C11, `-O1 -pthread`, plus `flags`) into an executable called `name`.
    ///
    /// - Throws: `CProgramError` with the compiler's output when `cc` fails or is missing.
    public static func compile(_ source: String, name: String, flags: [String] = []) async throws -> CProgram {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("propeller-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sourceFile = directory.appendingPathComponent("\(name).c")
        let executable = directory.appendingPathComponent(name)
        try source.write(to: sourceFile, atomically: true, encoding: .utf8)

        let result: LaunchResult
        do {
            result = try await ProcessLauncher.run(
                "/usr/bin/env",
                arguments: ["cc", "-std=gnu11", "-O1", "-pthread", "-o", executable.path, sourceFile.path] + flags
            )
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw CProgramError(name: name, output: "cannot run cc: \(error)")
        }
        guard result.status == 0 else {
            try? FileManager.default.removeItem(at: directory)
            throw CProgramError(name: name, output: result.standardOutput + result.standardError)
        }
        return CProgram(path: executable.path, directory: directory)
    }

    /// Deletes the temporary directory.
    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// `cc` failed to build a test program.
public struct CProgramError: Error, CustomStringConvertible {
    /// The program's name.
    public let name: String
    /// What the compiler printed.
    public let output: String

    /// The program's name and the compiler's output.
    public var description: String { "compiling \(name) with cc failed:\n\(output)" }
}
