import PropellerCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Samples host-wide figures: CPU use since the previous sample, total and used memory, load.
///
/// Linux: `/proc/stat` (CPU), `/proc/meminfo` (`MemTotal − MemAvailable`), `getloadavg`. Files are
/// opened per sample: the host is sampled once per proplet metrics interval, not per task.
public struct HostSampler: Sendable {
    private var previous: CPUTicks

    /// Reads the CPU baseline, so the first `sample()` covers the time since `init`.
    public init() {
        previous = Self.cpuTicks() ?? CPUTicks(busy: 0, total: 0)
    }

    /// Host CPU% (0…100, all cores together) since the previous sample, memory, and 1-minute load.
    /// A figure the OS does not provide reads 0.
    public mutating func sample() -> HostMetrics {
        var cpuPercent = 0.0
        if let ticks = Self.cpuTicks() {
            let total = ticks.total &- previous.total
            let busy = ticks.busy &- previous.busy
            if ticks.total > previous.total, ticks.busy >= previous.busy {
                cpuPercent = min(100, Double(busy) / Double(total) * 100)
            }
            previous = ticks
        }
        var load = [0.0]
        if getloadavg(&load, 1) != 1 { load[0] = 0 }
        let totalMemory = Self.totalMemoryBytes()
        let usedMemory = Self.usedMemoryBytes(total: totalMemory) ?? 0
        return HostMetrics(
            cpuPercent: cpuPercent,
            memoryTotalBytes: totalMemory,
            memoryUsedBytes: max(0, min(totalMemory, usedMemory)),
            load1m: load[0]
        )
    }

    /// Total RAM in bytes (`MemTotal`), read once per process and cached.
    public static func totalMemoryBytes() -> Int64 { SystemConstants.totalMemoryBytes }

    /// Cumulative CPU time of all cores, in clock ticks.
    struct CPUTicks: Sendable {
        /// Ticks not spent idle or waiting for I/O.
        var busy: UInt64
        /// All ticks.
        var total: UInt64
    }

    #if os(Linux)
    /// The first line of `/proc/stat`: `cpu user nice system idle iowait irq softirq steal …`.
    static func cpuTicks() -> CPUTicks? {
        ProcText.withFile("/proc/stat") { bytes in
            guard ProcText.hasPrefix("cpu ", in: bytes, at: 0) else { return nil }
            var position = 4
            var total: UInt64 = 0
            var idle: UInt64 = 0
            for column in 0..<8 {
                let (value, end) = ProcText.integer(in: bytes, from: position)
                guard end > position else { break }
                total &+= UInt64(max(0, value))
                if column == 3 || column == 4 { idle &+= UInt64(max(0, value)) }
                position = end
            }
            return CPUTicks(busy: total &- idle, total: total)
        }
    }

    static func usedMemoryBytes(total: Int64) -> Int64? {
        ProcText.withFile("/proc/meminfo") { bytes in
            ProcText.field("MemAvailable", in: bytes).map { total - $0 * 1024 }
        }
    }
    #elseif os(macOS)
    static func cpuTicks() -> CPUTicks? {
        var info = host_cpu_load_info_data_t()
        var count = mach_msg_type_number_t(
            MemoryLayout<host_cpu_load_info_data_t>.size / MemoryLayout<integer_t>.size
        )
        let result = withUnsafeMutablePointer(to: &info) { pointer in
            pointer.withMemoryRebound(to: integer_t.self, capacity: Int(count)) { rebound in
                host_statistics(mach_host_self(), HOST_CPU_LOAD_INFO, rebound, &count)
            }
        }
        guard result == KERN_SUCCESS else { return nil }
        let (user, system, idle, nice) = info.cpu_ticks
        let busy = UInt64(user) + UInt64(system) + UInt64(nice)
        return CPUTicks(busy: busy, total: busy + UInt64(idle))
    }

    static func usedMemoryBytes(total: Int64) -> Int64? {
        var info = vm_statistics64_data_t()
        var count = mach_msg_type_number_t(
            MemoryLayout<vm_statistics64_data_t>.size / MemoryLayout<integer_t>.size
        )
        let result = withUnsafeMutablePointer(to: &info) { pointer in
            pointer.withMemoryRebound(to: integer_t.self, capacity: Int(count)) { rebound in
                host_statistics64(mach_host_self(), HOST_VM_INFO64, rebound, &count)
            }
        }
        guard result == KERN_SUCCESS else { return nil }
        let pages = Int64(info.active_count) + Int64(info.wire_count) + Int64(info.compressor_page_count)
        return pages * SystemConstants.pageSize
    }
    #endif
}
