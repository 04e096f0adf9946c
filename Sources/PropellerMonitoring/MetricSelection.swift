import PropellerCore

/// Which metrics a `ProcessSampler` reads, built from a profile's `collect_*` switches.
///
/// `uptime_seconds` is always reported (it comes from the same read as CPU and memory). A metric that
/// is not selected is not read at all and is nil in the sample.
public struct MetricSelection: Sendable, Hashable {
    /// `cpu_percent` (from `/proc/[pid]/stat`).
    public var cpu: Bool
    /// `memory_bytes` and `memory_percent` (from `/proc/[pid]/stat`).
    public var memory: Bool
    /// `disk_read_bytes` and `disk_write_bytes` (from `/proc/[pid]/io`, opened only when selected).
    public var diskIO: Bool
    /// `thread_count` (from `/proc/[pid]/stat`).
    public var threads: Bool
    /// `file_descriptor_count` (from `/proc/[pid]/fd`, opened only when selected).
    public var fileDescriptors: Bool

    /// Creates a selection; every metric is selected by default.
    public init(
        cpu: Bool = true,
        memory: Bool = true,
        diskIO: Bool = true,
        threads: Bool = true,
        fileDescriptors: Bool = true
    ) {
        self.cpu = cpu
        self.memory = memory
        self.diskIO = diskIO
        self.threads = threads
        self.fileDescriptors = fileDescriptors
    }

    /// The metrics a monitoring profile collects.
    public init(profile: MonitoringProfile) {
        self.init(
            cpu: profile.collectCPU,
            memory: profile.collectMemory,
            diskIO: profile.collectDiskIO,
            threads: profile.collectThreads,
            fileDescriptors: profile.collectFileDescriptors
        )
    }

    /// Every metric.
    public static let all = MetricSelection()
}
