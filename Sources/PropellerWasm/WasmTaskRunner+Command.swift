import PropellerCore
import WASI
import WasmKit
import WasmKitWASI

// WASI preview 1 command: argv, env, captured stdout, exit code.
extension WasmTaskRunner {
    func runCommand(_ module: Module, job: RunnerJob) throws(WasmRunError) -> RunnerOutcome {
        let stdout = try OutputCapture(retention: .head(limit: configuration.stdoutLimit))
        let stderr = try OutputCapture(
            retention: .tail(limit: configuration.stderrTailLimit),
            copyTo: configuration.diagnosticsDescriptor
        )
        let wasi: WASIBridgeToHost
        do {
            wasi = try Self.bridge(
                args: [Self.programName(for: job)] + job.cliArgs + job.inputs.map(\.description),
                environment: job.env,
                stdout: stdout.writeDescriptor,
                stderr: stderr.writeDescriptor
            )
        } catch {
            _ = stdout.finish()
            _ = stderr.finish()
            throw error
        }
        let exit = Result { () throws(WasmRunError) -> Int in
            let instance = try Self.instantiate(module, wasi: wasi, memoryLimit: job.limits.memoryBytes)
            do {
                return Int(try wasi.start(instance))
            } catch {
                throw Self.executionError(error, in: "_start")
            }
        }
        Self.close(wasi)
        let output = stdout.finish()
        let errors = stderr.finish()
        let results = Self.text(of: output, limit: configuration.stdoutLimit)
        switch exit {
        case .success(0):
            return RunnerOutcome(state: .completed, results: results, exitCode: 0)
        case .success(let code):
            let failure = WasmRunError.nonZeroExit(
                code: code,
                stderrTail: errors.tailText(limit: configuration.stderrTailLimit)
            )
            return RunnerOutcome(state: .failed, results: results, error: failure.description, exitCode: code)
        case .failure(let failure):
            return RunnerOutcome(state: .failed, results: results, error: failure.description)
        }
    }

    /// A command's stdout as `results`: all of it when it fits, otherwise its beginning (cut at a
    /// character boundary) followed by a line saying how much was written, within `limit` bytes.
    static func text(of output: OutputCapture.Output, limit: Int) -> String {
        guard output.isTruncated else { return String(decoding: output.bytes, as: UTF8.self) }
        let note = "\n[stdout truncated: \(output.totalBytes) bytes written, only the first \(limit) bytes are kept]"
        var cut = max(0, min(output.bytes.count, limit - note.utf8.count))
        // Step back over UTF-8 continuation bytes and the lead byte of a character split by the cut.
        if cut < output.bytes.count, output.bytes[cut] & 0xC0 == 0x80 {
            while cut > 0, output.bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        }
        return String(decoding: output.bytes[0..<cut], as: UTF8.self) + note
    }
}
