import Foundation

/// Who listens on a TCP port, read from `/proc/net/tcp{,6}` and the processes' fds (Linux), for a
/// clear "port held by …" message instead of a bare "address in use".
enum PortHolder {
    /// `"0.0.0.0:7070 (pid 1234, python3)"`, or just the address when the process is not visible, or nil
    /// when nothing listens there.
    static func describe(port: Int) -> String? {
        for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                // sl local_address rem_address st … inode (field 9); st 0A = LISTEN.
                guard fields.count > 9, fields[3] == "0A" else { continue }
                let local = fields[1].split(separator: ":")
                guard local.count == 2, Int(local[1], radix: 16) == port else { continue }
                let address = "\(decode(String(local[0]))):\(port)"
                guard let (pid, name) = process(owningInode: String(fields[9])) else { return address }
                return "\(address) (pid \(pid), \(name))"
            }
        }
        return nil
    }

    private static func decode(_ hex: String) -> String {
        guard hex.count == 8, let value = UInt32(hex, radix: 16) else { return hex.count == 32 ? "[::]" : hex }
        return [0, 8, 16, 24].map { String((value >> UInt32($0)) & 0xFF) }.joined(separator: ".")
    }

    private static func process(owningInode inode: String) -> (Int, String)? {
        let target = "socket:[\(inode)]"
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int.init) ?? []
        for pid in pids {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            for fd in fds
            where (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) == target {
                let name =
                    (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
                return (pid, name)
            }
        }
        return nil
    }
}
