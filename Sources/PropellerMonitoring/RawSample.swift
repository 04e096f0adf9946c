/// The cumulative figures of one process at one instant, as read from the OS, before any delta.
///
/// Fields the selection did not ask for keep their previous value (zero at first).
struct RawSample {
    /// User + system CPU time of all threads, in seconds.
    var cpuSeconds: Double = 0
    /// Resident set size in bytes.
    var residentBytes: Int64 = 0
    /// Threads of the process.
    var threadCount: Int64 = 0
    /// Seconds since the process started.
    var uptimeSeconds: Double = 0
    /// Cumulative storage bytes read.
    var readBytes: Int64 = 0
    /// Cumulative storage bytes written.
    var writeBytes: Int64 = 0
    /// Open file descriptors.
    var fileDescriptorCount: Int64 = 0
    /// The instant of the reading on a clock that does not jump (seconds, arbitrary origin).
    var clockSeconds: Double = 0
}
