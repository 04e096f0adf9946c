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
}
