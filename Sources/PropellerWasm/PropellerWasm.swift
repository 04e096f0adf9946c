// Running Wasm modules with WasmKit. Built in the proplet issue.
