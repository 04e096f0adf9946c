#if os(Linux)
import Foundation
import Glibc

/// Independent readings of `/proc` (plain Foundation parsing) to check the sampler against.
enum ProcFixture {
    /// A `Key: N kB` field of `/proc/[pid]/status`, in KiB.
    static func statusKibibytes(_ key: String, pid: Int32) -> Int64? {
        field(key, in: "/proc/\(pid)/status")
    }

    /// `MemTotal` in bytes.
    static func memTotalBytes() -> Int64? {
        field("MemTotal", in: "/proc/meminfo").map { $0 * 1024 }
    }

    /// Entries of `/proc/[pid]/fd`.
    static func fdEntries(pid: Int32) -> Int64? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")).map { Int64($0.count) }
    }

    /// The state letter of `/proc/[pid]/stat` (`R`, `S`, `Z`, …), nil when it cannot be read.
    static func state(pid: Int32) -> Character? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[close...].dropFirst(2).first
    }

    /// A new directory on a disk-backed file system (tmpfs does not count storage writes): the
    /// temporary directory, or one under the working directory when that is tmpfs.
    static func diskBackedDirectory() throws -> URL {
        var base = FileManager.default.temporaryDirectory.resolvingSymlinksInPath()
        if fileSystemType(of: base.path) == "tmpfs" {
            base = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build")
        }
        let directory = base.appendingPathComponent("propeller-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The type of the file system holding `path` (the longest matching mount point of /proc/mounts).
    static func fileSystemType(of path: String) -> String? {
        guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return nil }
        var best: (point: String, type: String)?
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 2 else { continue }
            let point = String(fields[1])
            let inside = point == "/" || path == point || path.hasPrefix(point + "/")
            if inside, point.count >= (best?.point.count ?? -1) { best = (point, String(fields[2])) }
        }
        return best?.type
    }

    private static func field(_ key: String, in path: String) -> Int64? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return Int64(line.dropFirst(key.count + 1).split(whereSeparator: \.isWhitespace).first ?? "")
        }
        return nil
    }
}
#endif
