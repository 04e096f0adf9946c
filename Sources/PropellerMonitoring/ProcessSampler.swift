import PropellerCore

#if os(Linux)
/// The platform's source of one process's figures.
typealias SampleSource = LinuxSampleSource
#elseif os(macOS)
/// The platform's source of one process's figures.
typealias SampleSource = DarwinSampleSource
#endif

/// Samples one process: CPU%, RSS, storage I/O, uptime, threads and open fds (SPEC §2).
///
/// On Linux the needed `/proc/[pid]` files are opened once in `init` and re-read with `pread` (see
/// `LinuxSampleSource` for the source of each figure), five cheap system calls per full sample; on
/// macOS libproc is used. The CPU baseline is read in `init`,
/// so the first `sample()` already covers the time since then. Not thread-safe: use one sampler from
/// one task or actor at a time.
public final class ProcessSampler {
    /// The sampled process.
    public let pid: Int32
    /// The metrics this sampler reads; the others are nil in its samples.
    public let selection: MetricSelection
    private let source: SampleSource
    private var raw = RawSample()
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
        source = try LinuxSampleSource(
            pid: pid,
            selection: selection,
            countsFDEntries: countsFDEntries,
            parsesStat: parsesStat
        )
        #else
        source = try DarwinSampleSource(pid: pid, selection: selection)
        #endif
        try source.read(into: &raw, selection: selection)
        previousCPUSeconds = raw.cpuSeconds
        previousClockSeconds = raw.clockSeconds
    }

    /// User + system CPU time of the process, in seconds, at the last raw (`init` or `sample()`);
    /// 0 when the selection leaves CPU out (it is then not read).
    ///
    /// Lets a caller compute the final sample from the CPU time reported by `wait4` after the process
    /// is gone.
    public var lastCPUSeconds: Double { raw.cpuSeconds }

    /// Reads one sample. `cpu_percent` is the CPU time used since the previous sample (or since
    /// `init`) divided by the wall time between the two readings, ×100 (100 = one full core).
    ///
    /// - Throws: `MonitoringError.processGone` once the process has exited (zombie or reaped).
    public func sample() throws(MonitoringError) -> ProcessMetrics {
        try source.read(into: &raw, selection: selection)
        var metrics = ProcessMetrics(uptimeSeconds: Int64(raw.uptimeSeconds))
        if selection.cpu {
            let elapsed = raw.clockSeconds - previousClockSeconds
            let used = raw.cpuSeconds - previousCPUSeconds
            metrics.cpuPercent = elapsed > 0 ? max(0, used) / elapsed * 100 : 0
        }
        previousCPUSeconds = raw.cpuSeconds
        previousClockSeconds = raw.clockSeconds
        if selection.memory {
            metrics.memoryBytes = raw.residentBytes
            let total = SystemConstants.totalMemoryBytes
            metrics.memoryPercent = total > 0 ? Double(raw.residentBytes) / Double(total) * 100 : 0
        }
        if selection.diskIO {
            metrics.diskReadBytes = raw.readBytes
            metrics.diskWriteBytes = raw.writeBytes
        }
        if selection.threads { metrics.threadCount = raw.threadCount }
        if selection.fileDescriptors { metrics.fileDescriptorCount = raw.fileDescriptorCount }
        return metrics
    }
}
