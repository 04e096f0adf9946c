#if os(macOS)
import Darwin

/// Reads one process's figures through libproc (`proc_pid_rusage`, `proc_pidinfo`) on macOS.
///
/// CPU times and start time in `rusage_info_v4` are Mach absolute time units, converted with the
/// timebase. There is no kept-open handle on macOS: a reused pid is indistinguishable here.
struct DarwinSampleSource: ~Copyable {
    let pid: Int32

    private static let nanosecondsPerTick: Double = {
        var info = mach_timebase_info_data_t()
        mach_timebase_info(&info)
        return info.denom == 0 ? 1 : Double(info.numer) / Double(info.denom)
    }()

    /// Checks that the process exists.
    init(pid: Int32, selection: MetricSelection) throws(MonitoringError) {
        guard kill(pid, 0) == 0 || errno == EPERM else { throw MonitoringError.processGone(pid: pid) }
        self.pid = pid
    }

    /// Updates `reading` with the selected figures.
    func read(into reading: inout RawSample, selection: MetricSelection) throws(MonitoringError) {
        var usage = rusage_info_v4()
        let status = withUnsafeMutablePointer(to: &usage) { pointer in
            pointer.withMemoryRebound(to: rusage_info_t?.self, capacity: 1) { rebound in
                proc_pid_rusage(pid, RUSAGE_INFO_V4, rebound)
            }
        }
        guard status == 0 else { throw MonitoringError.from(errno: errno, pid: pid, path: "proc_pid_rusage") }
        let now = Self.clockSeconds()
        reading.clockSeconds = now
        reading.cpuSeconds = Self.seconds(usage.ri_user_time &+ usage.ri_system_time)
        reading.residentBytes = Int64(clamping: usage.ri_resident_size)
        reading.readBytes = Int64(clamping: usage.ri_diskio_bytesread)
        reading.writeBytes = Int64(clamping: usage.ri_diskio_byteswritten)
        reading.uptimeSeconds = max(0, now - Self.seconds(usage.ri_proc_start_abstime))
        if selection.threads {
            var info = proc_taskinfo()
            let size = Int32(MemoryLayout<proc_taskinfo>.size)
            guard proc_pidinfo(pid, PROC_PIDTASKINFO, 0, &info, size) == size else {
                throw MonitoringError.from(errno: errno, pid: pid, path: "proc_pidinfo(PROC_PIDTASKINFO)")
            }
            reading.threadCount = Int64(info.pti_threadnum)
        }
        if selection.fileDescriptors {
            reading.fileDescriptorCount = try fileDescriptorCount()
        }
    }

    private func fileDescriptorCount() throws(MonitoringError) -> Int64 {
        let needed = proc_pidinfo(pid, PROC_PIDLISTFDS, 0, nil, 0)
        guard needed >= 0 else {
            throw MonitoringError.from(errno: errno, pid: pid, path: "proc_pidinfo(PROC_PIDLISTFDS)")
        }
        let stride = MemoryLayout<proc_fdinfo>.stride
        var entries = [proc_fdinfo](repeating: proc_fdinfo(), count: Int(needed) / stride + 16)
        let filled = entries.withUnsafeMutableBytes { bytes in
            proc_pidinfo(pid, PROC_PIDLISTFDS, 0, bytes.baseAddress, Int32(bytes.count))
        }
        guard filled >= 0 else {
            throw MonitoringError.from(errno: errno, pid: pid, path: "proc_pidinfo(PROC_PIDLISTFDS)")
        }
        return Int64(Int(filled) / stride)
    }

    /// The clock of `RawSample.clockSeconds`: `mach_absolute_time`, the clock of the start time.
    static func clockSeconds() -> Double { seconds(mach_absolute_time()) }

    private static func seconds(_ ticks: UInt64) -> Double {
        Double(ticks) * nanosecondsPerTick / 1_000_000_000
    }
}
#endif
