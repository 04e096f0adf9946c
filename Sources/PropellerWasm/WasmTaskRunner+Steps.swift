import PropellerCore
import WASI
@_spi(Fuzzing) import WasmKit
import WasmKitWASI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The steps both modes share: WASI bridge, instantiation, errors.
extension WasmTaskRunner {
    /// A descriptor open on /dev/null (for stdin, and for discarded output); opened once per process.
    static let nullDescriptor: Int32 = open("/dev/null", O_RDWR | O_CLOEXEC)

    static func bridge(
        args: [String],
        environment: [String: String],
        stdout: Int32,
        stderr: Int32
    ) throws(WasmRunError) -> WASIBridgeToHost {
        do {
            return try WASIBridgeToHost(
                args: args,
                environment: environment,
                preopens: [],
                stdin: nullDescriptor,
                stdout: stdout,
                stderr: stderr
            )
        } catch {
            throw .runtime(reason: "cannot set up WASI: \(error)")
        }
    }

    /// Instantiates the module; with `memoryLimit`, every linear memory is checked against it
    /// (`LinearMemoryLimiter`).
    static func instantiate(
        _ module: Module,
        wasi: WASIBridgeToHost,
        memoryLimit: Int64? = nil
    ) throws(WasmRunError) -> Instance {
        let store = Store(engine: Engine())
        if let memoryLimit { store.resourceLimiter = LinearMemoryLimiter(limitBytes: memoryLimit) }
        var imports = Imports()
        wasi.link(to: &imports, store: store)
        do {
            return try module.instantiate(store: store, imports: imports)
        } catch let failure as WasmRunError {
            throw failure
        } catch let trap as Trap {
            throw .trap(export: "start function", reason: trapReason(trap))
        } catch {
            throw .instantiationFailed(reason: "\(error)")
        }
    }

    /// Closes the bridge; a failure to close is only logged, it does not change the task's outcome.
    static func close(_ wasi: WASIBridgeToHost) {
        do {
            try wasi.close()
        } catch {
            StandardError.write("propeller-wasm: closing WASI failed: \(error)")
        }
    }

    static func executionError(_ error: any Error, in export: String) -> WasmRunError {
        if let failure = error as? WasmRunError { return failure }
        if let trap = error as? Trap { return .trap(export: export, reason: trapReason(trap)) }
        if let wasmError = error as? WasmKitError { return .trap(export: export, reason: "\(wasmError)") }
        return .runtime(reason: "\(error)")
    }

    /// The trap's reason without the `Trap: ` prefix and the backtrace.
    static func trapReason(_ trap: Trap) -> String {
        var line = Substring(trap.description.split(separator: "\n", maxSplits: 1).first ?? "")
        if line.hasPrefix("Trap: ") { line = line.dropFirst("Trap: ".count) }
        return line.isEmpty ? "trap" : String(line)
    }
}
