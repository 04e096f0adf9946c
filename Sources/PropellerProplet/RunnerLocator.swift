#if canImport(Glibc)
import Glibc
#endif

/// Finds the task runner executable: `PropletConfiguration.runnerPath` when set, otherwise
/// `propeller-wasm` in the directory of the running executable (`/proc/self/exe`).
enum RunnerLocator {
    /// The runner's file name.
    static let runnerName = "propeller-wasm"

    /// The path of the runner to spawn.
    static func runnerPath(_ configuration: PropletConfiguration) -> String {
        if let path = configuration.runnerPath { return path }
        return executableDirectory() + "/" + runnerName
    }

    /// The directory of the running executable, or `.` when it cannot be found.
    static func executableDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return "." }
        let path = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
