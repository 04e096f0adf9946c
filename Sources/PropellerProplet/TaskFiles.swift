import Foundation
import PropellerCore

/// The files of one task run in the proplet's work directory: the module (`.wasm`) and the runner
/// job (`.job.json`). Removed when the task ends.
struct TaskFiles: Sendable {
    /// Path of the module file.
    var modulePath: String
    /// Path of the job file given to the runner.
    var jobPath: String

    /// Decodes the module of a start command, writes it and the runner job.
    ///
    /// - Throws: `PropletError.moduleUnavailable` for an `image_url` task (not supported yet), a `file`
    ///   that is not base64, or a file that cannot be written.
    static func write(_ command: StartCommand, into directory: String) throws(PropletError) -> TaskFiles {
        guard let encoded = command.file else {
            throw .moduleUnavailable(
                reason: "image_url is not supported yet by this proplet; send the module base64-encoded in file"
            )
        }
        guard let module = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters), !module.isEmpty
        else {
            throw .moduleUnavailable(reason: "file is not a base64-encoded WebAssembly module")
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
            daemon: command.daemon
        )
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try module.write(to: moduleURL)
            try WireCoding.encode(job).write(to: jobURL)
        } catch {
            try? FileManager.default.removeItem(at: moduleURL)
            throw .moduleUnavailable(reason: "cannot write the module to \(folder.path): \(error.localizedDescription)")
        }
        return TaskFiles(modulePath: moduleURL.path, jobPath: jobURL.path)
    }

    /// Deletes both files (errors are ignored: the files may already be gone).
    func remove() {
        try? FileManager.default.removeItem(atPath: modulePath)
        try? FileManager.default.removeItem(atPath: jobPath)
    }
}
