/// The Wasm runtimes a proplet can run tasks with (`PROPLET_WASM_RUNTIME`, SPEC §5 "Runtimes").
public enum WasmRuntimeKind: String, Sendable, Hashable, CaseIterable {
    /// WasmKit, embedded in the `propeller-wasm` runner (the default).
    case wasmkit
    /// The Wasmtime CLI, modules compiled ahead of time and cached per digest.
    case wasmtime
}
