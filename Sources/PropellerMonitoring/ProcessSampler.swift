import PropellerCore

#if os(Linux)
/// The platform's reader of one process's figures.
typealias ProcessReader = LinuxProcessReader
#elseif os(macOS)
/// The platform's reader of one process's figures.
typealias ProcessReader = DarwinProcessReader
#endif

/// Samples one process: CPU%, RSS, storage I/O, uptime, threads and open fds (SPEC §2).
///
/// On Linux the needed `/proc/[pid]` files are opened once in `init` and re-read with `pread` (see
/// `LinuxProcessReader` for the source of each figure), five cheap system calls per full sample; on
/// macOS libproc is used. The CPU baseline is read in `init`,
/// so the first `sample()` already covers the time since then. Not thread-safe: use one sampler from
/// one task or actor at a time.
public final class ProcessSampler {
    /// The sampled process.
    public let pid: Int32
    /// The metrics this sampler reads; the others are nil in its samples.
    public let selection: MetricSelection
    private let reader: ProcessReader
    private var reading = RawProcessReading()
    private var previousCPUSeconds: Double
    private var previousClockSeconds: Double

    /// Opens the process's sources and reads the CPU baseline.
    ///
    /// - Throws: `MonitoringError.processGone` when `pid` does not exist or has exited,
    ///   `.unreadable` when a source cannot be opened (for example `/proc/[pid]/io` of another user).
    public convenience init(pid: Int32, selection: MetricSelection = .all) throws(MonitoringError) {
        try self.init(pid: pid, selection: selection, countsFDEntries: false)
    }

    /// As `init(pid:selection:)`, with the Linux fallbacks forced so tests can exercise them:
    /// `countsFDEntries` counts `/proc/[pid]/fd` entries instead of reading its size (kernels < 6.2),
    /// `parsesStat` takes CPU time, RSS and uptime from `/proc/[pid]/stat` per sample (no CPU clock).
    package init(
        pid: Int32,
        selection: MetricSelection,
        countsFDEntries: Bool,
        parsesStat: Bool = false
    ) throws(MonitoringError) {
        self.pid = pid
        self.selection = selection
        #if os(Linux)
        reader = try LinuxProcessReader(
            pid: pid,
            selection: selection,
            countsFDEntries: countsFDEntries,
            parsesStat: parsesStat
        )
        #else
        reader = try DarwinProcessReader(pid: pid, selection: selection)
        #endif
        try reader.read(into: &reading, selection: selection)
        previousCPUSeconds = reading.cpuSeconds
        previousClockSeconds = reading.clockSeconds
    }

    /// User + system CPU time of the process, in seconds, at the last reading (`init` or `sample()`);
    /// 0 when the selection leaves CPU out (it is then not read).
    ///
    /// Lets a caller compute the final sample from the CPU time reported by `wait4` after the process
    /// is gone.
    public var lastCPUSeconds: Double { reading.cpuSeconds }

    /// Reads one sample. `cpu_percent` is the CPU time used since the previous sample (or since
    /// `init`) divided by the wall time between the two readings, ×100 (100 = one full core).
    ///
    /// - Throws: `MonitoringError.processGone` once the process has exited (zombie or reaped).
    public func sample() throws(MonitoringError) -> ProcessMetrics {
        try reader.read(into: &reading, selection: selection)
        var metrics = ProcessMetrics(uptimeSeconds: Int64(reading.uptimeSeconds))
        if selection.cpu {
            let elapsed = reading.clockSeconds - previousClockSeconds
            let used = reading.cpuSeconds - previousCPUSeconds
            metrics.cpuPercent = elapsed > 0 ? max(0, used) / elapsed * 100 : 0
        }
        previousCPUSeconds = reading.cpuSeconds
        previousClockSeconds = reading.clockSeconds
        if selection.memory {
            metrics.memoryBytes = reading.residentBytes
            let total = SystemConstants.totalMemoryBytes
            metrics.memoryPercent = total > 0 ? Double(reading.residentBytes) / Double(total) * 100 : 0
        }
        if selection.diskIO {
            metrics.diskReadBytes = reading.readBytes
            metrics.diskWriteBytes = reading.writeBytes
        }
        if selection.threads { metrics.threadCount = reading.threadCount }
        if selection.fileDescriptors { metrics.fileDescriptorCount = reading.fileDescriptorCount }
        return metrics
    }
}
