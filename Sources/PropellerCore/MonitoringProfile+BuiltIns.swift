extension MonitoringProfile {
    /// General-purpose tasks: every metric every 10 s, 100 samples of history.
    public static let standard = MonitoringProfile(
        interval: 10,
        collectDiskIO: true,
        collectThreads: true,
        collectFileDescriptors: true,
        exportToMQTT: true,
        retainHistory: true,
        historySize: 100
    )

    /// Constrained devices: CPU and memory every 60 s, nothing published per sample, no history.
    public static let minimal = MonitoringProfile(
        interval: 60,
        collectDiskIO: false,
        collectThreads: false,
        collectFileDescriptors: false,
        exportToMQTT: false,
        retainHistory: false,
        historySize: 0
    )

    /// Debugging and profiling: every metric every second, 1000 samples of history.
    public static let intensive = MonitoringProfile(
        interval: 1,
        collectDiskIO: true,
        collectThreads: true,
        collectFileDescriptors: true,
        exportToMQTT: true,
        retainHistory: true,
        historySize: 1000
    )

    /// Batch jobs: CPU, memory and disk I/O every 30 s, 200 samples of history.
    public static let batch = MonitoringProfile(
        interval: 30,
        collectDiskIO: true,
        collectThreads: false,
        collectFileDescriptors: false,
        exportToMQTT: true,
        retainHistory: true,
        historySize: 200
    )

    /// Long-running daemons: every metric every 120 s, 500 samples of history.
    public static let daemon = MonitoringProfile(
        interval: 120,
        collectDiskIO: true,
        collectThreads: true,
        collectFileDescriptors: true,
        exportToMQTT: true,
        retainHistory: true,
        historySize: 500
    )

    /// The built-in profiles by name, in the order SPEC §3 lists them.
    public static let builtIns: [(name: String, profile: MonitoringProfile)] = [
        ("standard", .standard), ("minimal", .minimal), ("intensive", .intensive), ("batch", .batch),
        ("daemon", .daemon),
    ]

    /// The built-in profile with this name, if any.
    public static func named(_ name: String) -> MonitoringProfile? {
        builtIns.first { $0.name == name }?.profile
    }

    /// The profile chosen when a task gives none: `daemon` for daemon tasks, otherwise `standard`.
    public static func automatic(daemon: Bool) -> MonitoringProfile {
        daemon ? .daemon : .standard
    }
}
