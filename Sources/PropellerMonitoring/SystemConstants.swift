#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Figures of the machine that do not change while the process runs, read once.
enum SystemConstants {
    /// Clock ticks per second of the CPU times in `/proc/[pid]/stat` (`_SC_CLK_TCK`, 100 on Linux).
    static let clockTicksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Bytes per memory page (the unit of `rss` in `/proc/[pid]/stat`).
    static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))

    /// Total RAM in bytes: `MemTotal` of `/proc/meminfo` on Linux, `hw.memsize` on macOS.
    static let totalMemoryBytes: Int64 = {
        #if os(Linux)
        if let kibibytes = ProcText.withFile("/proc/meminfo", { ProcText.field("MemTotal", in: $0) }) {
            return kibibytes * 1024
        }
        return Int64(sysconf(Int32(_SC_PHYS_PAGES))) * pageSize
        #else
        var size: Int64 = 0
        var length = MemoryLayout<Int64>.size
        guard sysctlbyname("hw.memsize", &size, &length, nil, 0) == 0 else { return 0 }
        return size
        #endif
    }()

    /// Whether `fstat` of `/proc/[pid]/fd` reports the number of open fds as `st_size` (Linux ≥ 6.2);
    /// older kernels report 0 and the entries must be counted.
    static let fdDirectorySizeIsCount: Bool = {
        var name = utsname()
        guard uname(&name) == 0 else { return false }
        let release = withUnsafeBytes(of: &name.release) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let parts = release.split(separator: ".").prefix(2).map { Int($0.prefix { $0.isNumber }) ?? 0 }
        guard parts.count == 2 else { return false }
        return parts[0] > 6 || (parts[0] == 6 && parts[1] >= 2)
    }()

    #if os(Linux)
    /// Seconds on `CLOCK_BOOTTIME` (time since boot, including suspend): the clock `starttime` in
    /// `/proc/[pid]/stat` counts on, in clock ticks, on current kernels.
    @inline(__always)
    static func bootClockSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1_000_000_000
    }
    #endif
}
