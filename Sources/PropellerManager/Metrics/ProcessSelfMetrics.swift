#if canImport(Glibc)
import Glibc
#endif

/// The manager's own process figures for the standard `process_*` families, read from `/proc/self`
/// at scrape time (Linux; nil elsewhere, and the families are then left out).
struct ProcessSelfMetrics {
    var cpuSeconds: Double
    var residentBytes: Double
    var virtualBytes: Double
    var openFDs: Double
    var maxFDs: Double?
    var startTimeSeconds: Double
    var threads: Double

    /// Reads `/proc/self/stat`, `/proc/self/fd`, `/proc/stat` (boot time) and `RLIMIT_NOFILE`.
    static func read() -> ProcessSelfMetrics? {
        #if os(Linux)
        guard let stat = readFile("/proc/self/stat"), let close = stat.lastIndex(of: UInt8(ascii: ")")) else {
            return nil
        }
        // Fields after the command name, starting at field 3 (state).
        let fields = stat[stat.index(after: close)...].split(separator: UInt8(ascii: " ")).map {
            String(decoding: $0, as: UTF8.self)
        }
        func field(_ number: Int) -> Double? { fields.count > number - 3 ? Double(fields[number - 3]) : nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        guard let utime = field(14), let stime = field(15), let threads = field(20), let start = field(22),
            let vsize = field(23), let rss = field(24), ticks > 0
        else { return nil }
        var limit = rlimit()
        let maxFDs: Double? =
            getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Double(limit.rlim_cur) : nil
        return ProcessSelfMetrics(
            cpuSeconds: (utime + stime) / ticks,
            residentBytes: rss * pageSize,
            virtualBytes: vsize,
            openFDs: Double(countEntries("/proc/self/fd")),
            maxFDs: maxFDs,
            startTimeSeconds: bootTime() + start / ticks,
            threads: threads
        )
        #else
        return nil
        #endif
    }

    #if os(Linux)
    private static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }

    private static func countEntries(_ path: String) -> Int {
        guard let directory = opendir(path) else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { $0.first }
            if name != UInt8(ascii: ".") { count += 1 }
        }
        return max(0, count - 1)  // the descriptor opendir itself holds
    }

    /// `btime` of `/proc/stat`: the boot time in seconds since the epoch.
    private static func bootTime() -> Double {
        guard let text = readFile("/proc/stat").map({ String(decoding: $0, as: UTF8.self) }) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingPrefix(" ")) ?? 0
        }
        return 0
    }
    #endif
}
