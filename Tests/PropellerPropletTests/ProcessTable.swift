import Foundation

/// Reads the Linux process table (`/proc`) for integration tests.
enum ProcessTable {
    /// The pids whose parent is `pid`.
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { parent(of: $0) == pid }.sorted()
    }

    /// The parent pid, or nil when the process is gone.
    static func parent(of pid: Int32) -> Int32? {
        statFields(of: pid).flatMap { $0.count > 1 ? Int32($0[1]) : nil }
    }

    /// The state letter (`R`, `S`, `Z`, …), or nil when the process is gone.
    static func state(of pid: Int32) -> String? {
        statFields(of: pid)?.first
    }

    /// Resident set size in bytes, from `/proc/[pid]/statm`.
    static func residentBytes(of pid: Int32) -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int64(fields[1]) else { return nil }
        return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// A `kB` field of `/proc/[pid]/status` (`VmHWM`, `VmRSS`) in bytes; nil when gone or absent.
    static func statusBytes(of pid: Int32, field: String) -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("\(field):") {
            return Int64(line.split(separator: " ").dropFirst().first ?? "").map { $0 * 1024 }
        }
        return nil
    }

    /// The command line, arguments joined by spaces ("" when gone).
    static func commandLine(of pid: Int32) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
    }

    /// Fields of `/proc/[pid]/stat` after the command name: state, ppid, …
    private static func statFields(of pid: Int32) -> [String]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ").map(String.init)
    }
}

/// A process the test looked for was not found.
enum ProcessTableError: Error, CustomStringConvertible {
    case notFound(String)
    var description: String {
        switch self {
        case .notFound(let what): "not found: \(what)"
        }
    }
}
