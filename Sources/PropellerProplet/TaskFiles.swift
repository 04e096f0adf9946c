import Foundation
import PropellerCore
import PropellerRegistry

/// The files of one task run in the proplet's work directory: the module (`.wasm`) and the runner
/// job (`.job.json`). Removed when the task ends.
struct TaskFiles: Sendable {
    /// Path of the module file.
    var modulePath: String
    /// Path of the job file given to the runner.
    var jobPath: String
    /// The job written there.
    var job: RunnerJob
    /// The module's bytes.
    var module: [UInt8]
    /// The module's SHA-256, lowercase hex.
    var digest: String

    /// Writes the module of a start command (its base64 `file`, or the bytes fetched for its `image_url`)
    /// and the runner job.
    ///
    /// - Throws: `PropletError.moduleUnavailable` for a `file` that is not base64, a task with neither
    ///   module, or a file that cannot be written.
    static func write(
        _ command: StartCommand,
        fetchedModule: [UInt8]? = nil,
        limits: TaskLimits = .none,
        into directory: String
    ) throws(PropletError) -> TaskFiles {
        let module: Data
        if let fetchedModule {
            module = Data(fetchedModule)
        } else if let encoded = command.file {
            guard let decoded = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters), !decoded.isEmpty
            else {
                throw .moduleUnavailable(reason: "file is not a base64-encoded WebAssembly module")
            }
            module = decoded
        } else {
            throw .moduleUnavailable(reason: "the start command has neither file nor image_url")
        }
        let folder = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        let stem = "\(command.id.replacingOccurrences(of: ".", with: "_"))-\(UUID().uuidString.prefix(8))"
        let moduleURL = folder.appendingPathComponent("\(stem).wasm")
        let jobURL = folder.appendingPathComponent("\(stem).job.json")
        let job = RunnerJob(
            modulePath: moduleURL.path,
            name: command.name,
            inputs: command.inputs,
            env: command.env,
            cliArgs: command.cliArgs,
            daemon: command.daemon,
            limits: limits
        )
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try module.write(to: moduleURL)
            try WireCoding.encode(job).write(to: jobURL)
        } catch {
            try? FileManager.default.removeItem(at: moduleURL)
            throw .moduleUnavailable(reason: "cannot write the module to \(folder.path): \(error.localizedDescription)")
        }
        let bytes = [UInt8](module)
        return TaskFiles(
            modulePath: moduleURL.path,
            jobPath: jobURL.path,
            job: job,
            module: bytes,
            digest: SHA256.hex(of: bytes)
        )
    }

    /// Deletes both files (errors are ignored: the files may already be gone).
    func remove() {
        try? FileManager.default.removeItem(atPath: modulePath)
        try? FileManager.default.removeItem(atPath: jobPath)
    }
}
