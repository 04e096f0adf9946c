#if os(Linux)
import Glibc

/// Reads one process's figures on Linux through files opened once in `init` and re-read with `pread`
/// at offset 0 (each read regenerates the file), choosing the cheapest source for each figure:
///
/// | figure | source (per sample) |
/// |---|---|
/// | CPU time (user + system, all threads) | `clock_gettime` on the process's CPU clock (`clock_getcpuclockid`), ns precision |
/// | RSS | `/proc/[pid]/statm` (resident pages × page size — the same counter as `rss` in `stat`) |
/// | threads | `fstat` of `/proc/[pid]/task`: `st_nlink` − 2 |
/// | storage bytes | `/proc/[pid]/io` `read_bytes`, `write_bytes` |
/// | open fds | `fstat` of `/proc/[pid]/fd`: `st_size` (Linux ≥ 6.2), else its entries counted |
/// | uptime | `starttime` of `/proc/[pid]/stat`, read once (it never changes) |
///
/// Generating `/proc/[pid]/stat` costs about as much as all the others together, so it is read only
/// in `init` (and per sample only if the CPU clock is unavailable). Files the selection does not need
/// are not opened; `statm` is always read because it is also the liveness check.
///
/// Process gone: a kept-open file belongs to the process it was opened for — once that process is
/// reaped every read fails with `ESRCH`, even if the pid is reused; a zombie has no memory map, so its
/// `statm` reads all zeros. The CPU clock is read *before* `statm`: if `statm` still succeeds, the pid
/// was not yet free when the clock was read, so the clock was this process's.
struct LinuxSampleSource: ~Copyable {
    let pid: Int32
    private let statFD: Int32
    private let statmFD: Int32
    private let ioFD: Int32
    private let fdDirectoryFD: Int32
    private let taskDirectoryFD: Int32
    /// The process's CPU clock; nil when CPU is not selected or the kernel refuses one.
    private let cpuClock: clockid_t?
    /// Whether `stat` is parsed per sample: CPU is selected but there is no CPU clock.
    private let parsesStatPerSample: Bool
    private let countsFDEntries: Bool
    private let buffer: UnsafeMutableRawBufferPointer
    /// `starttime` in seconds on `clockSeconds()`'s clock.
    private let startSeconds: Double

    /// Large enough for `stat` with the longest command name and every field at its widest.
    private static let bufferSize = 4096

    /// Opens the files `selection` needs and reads the start time. `countsFDEntries` forces counting
    /// `/proc/[pid]/fd` entries instead of using its `st_size` (the path for kernels before 6.2);
    /// `parsesStat` forces parsing `stat` per sample (the path without a CPU clock).
    init(
        pid: Int32,
        selection: MetricSelection,
        countsFDEntries: Bool,
        parsesStat: Bool
    ) throws(MonitoringError) {
        let base = "/proc/\(pid)"
        var opened: [Int32] = []
        func open(_ name: String, _ wanted: Bool, directory: Bool = false) throws(MonitoringError) -> Int32 {
            guard wanted else { return -1 }
            let path = base + "/" + name
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0))
            guard fd >= 0 else { throw MonitoringError.from(errno: errno, pid: pid, path: path) }
            opened.append(fd)
            return fd
        }
        let files: (stat: Int32, statm: Int32, io: Int32, fd: Int32, task: Int32)
        do throws(MonitoringError) {
            files = (
                try open("stat", true), try open("statm", true), try open("io", selection.diskIO),
                try open("fd", selection.fileDescriptors, directory: true),
                try open("task", selection.threads, directory: true)
            )
        } catch {
            for fd in opened { close(fd) }
            throw error
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 8)
        var start = RawSample()
        do throws(MonitoringError) {
            let bytes = try Self.pread(files.stat, into: buffer, pid: pid, file: "stat")
            try Self.parseStat(bytes, pid: pid, into: &start)
        } catch {
            for fd in opened { close(fd) }
            buffer.deallocate()
            throw error
        }
        (statFD, statmFD, ioFD, fdDirectoryFD, taskDirectoryFD) = files
        var clock = clockid_t()
        let hasClock = selection.cpu && !parsesStat && clock_getcpuclockid(pid, &clock) == 0
        cpuClock = hasClock ? clock : nil
        parsesStatPerSample = parsesStat || (selection.cpu && !hasClock)
        self.pid = pid
        self.countsFDEntries = countsFDEntries
        self.buffer = buffer
        startSeconds = start.clockSeconds - start.uptimeSeconds
    }

    deinit {
        for fd in [statFD, statmFD, ioFD, fdDirectoryFD, taskDirectoryFD] where fd >= 0 { close(fd) }
        buffer.deallocate()
    }

    /// The clock of `RawSample.clockSeconds`: `CLOCK_BOOTTIME`, the clock `starttime` counts on.
    @inline(__always)
    static func clockSeconds() -> Double { SystemConstants.bootClockSeconds() }

    /// Updates `reading` with the selected figures (RSS and uptime always; CPU time unless CPU is not
    /// selected, then `cpuSeconds` keeps its value). Throws
    /// `processGone` once the process has exited (including while it is a zombie: its figures are no
    /// longer its own).
    func read(into reading: inout RawSample, selection: MetricSelection) throws(MonitoringError) {
        if parsesStatPerSample {
            try readStat(into: &reading)
        } else {
            if let cpuClock {
                var cpu = timespec()
                guard clock_gettime(cpuClock, &cpu) == 0 else { throw MonitoringError.processGone(pid: pid) }
                reading.cpuSeconds = Double(cpu.tv_sec) + Double(cpu.tv_nsec) / 1_000_000_000
            }
            reading.clockSeconds = Self.clockSeconds()
            try readStatm(into: &reading)
            reading.uptimeSeconds = max(0, reading.clockSeconds - startSeconds)
        }
        if taskDirectoryFD >= 0 {
            reading.threadCount = max(0, try fileStatus(taskDirectoryFD, "task").nlink - 2)
        }
        if ioFD >= 0 { try readIO(into: &reading) }
        if fdDirectoryFD >= 0 { try readFDCount(into: &reading) }
    }

    private func pread(_ fd: Int32, file: StaticString) throws(MonitoringError) -> UnsafeRawBufferPointer {
        try Self.pread(fd, into: buffer, pid: pid, file: file)
    }

    private static func pread(
        _ fd: Int32,
        into buffer: UnsafeMutableRawBufferPointer,
        pid: Int32,
        file: StaticString
    ) throws(MonitoringError) -> UnsafeRawBufferPointer {
        var count: Int
        repeat {
            count = Glibc.pread(fd, buffer.baseAddress!, buffer.count, 0)
        } while count < 0 && errno == EINTR
        guard count >= 0 else {
            throw MonitoringError.from(errno: errno, pid: pid, path: "/proc/\(pid)/\(file)")
        }
        return UnsafeRawBufferPointer(rebasing: buffer[0..<count])
    }

    private func fileStatus(_ fd: Int32, _ file: StaticString) throws(MonitoringError) -> (nlink: Int64, size: Int64) {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw MonitoringError.from(errno: errno, pid: pid, path: "/proc/\(pid)/\(file)")
        }
        return (Int64(info.st_nlink), Int64(info.st_size))
    }

    /// `statm`: size resident shared text lib data dt, in pages. A size of 0 means no memory map: the
    /// process has exited.
    private func readStatm(into reading: inout RawSample) throws(MonitoringError) {
        let bytes = try pread(statmFD, file: "statm")
        let (size, sizeEnd) = ProcText.integer(in: bytes, from: 0)
        let (resident, residentEnd) = ProcText.integer(in: bytes, from: sizeEnd)
        guard sizeEnd > 0, residentEnd > sizeEnd else { throw unexpected("statm") }
        guard size > 0 else { throw MonitoringError.processGone(pid: pid) }
        reading.residentBytes = max(0, resident) * SystemConstants.pageSize
    }

    /// Fields of `stat` (1-based, after the command name): 3 state, 14 utime, 15 stime,
    /// 20 num_threads, 22 starttime, 24 rss.
    private func readStat(into reading: inout RawSample) throws(MonitoringError) {
        try Self.parseStat(try pread(statFD, file: "stat"), pid: pid, into: &reading)
    }

    private static func parseStat(
        _ bytes: UnsafeRawBufferPointer,
        pid: Int32,
        into reading: inout RawSample
    ) throws(MonitoringError) {
        let unexpected = MonitoringError.unreadable(path: "/proc/\(pid)/stat", errno: EINVAL)
        reading.clockSeconds = Self.clockSeconds()
        // The command name may contain spaces and parentheses: fields start after the last ')'.
        var closing = bytes.count - 1
        while closing > 0, bytes[closing] != UInt8(ascii: ")") { closing -= 1 }
        guard closing > 0, closing + 2 < bytes.count else { throw unexpected }
        let state = bytes[closing + 2]
        if state == UInt8(ascii: "Z") || state == UInt8(ascii: "X") || state == UInt8(ascii: "x") {
            throw MonitoringError.processGone(pid: pid)
        }
        var position = closing + 3
        var field = 4
        var ticks: Int64 = 0
        while field <= 24 {
            let (value, end) = ProcText.integer(in: bytes, from: position)
            guard end > position, end < bytes.count else { throw unexpected }
            switch field {
            case 14, 15: ticks += value
            case 20: reading.threadCount = value
            case 22:
                let age = reading.clockSeconds - Double(value) / SystemConstants.clockTicksPerSecond
                reading.uptimeSeconds = max(0, age)
            case 24: reading.residentBytes = max(0, value) * SystemConstants.pageSize
            default: break
            }
            position = end
            field += 1
        }
        reading.cpuSeconds = Double(ticks) / SystemConstants.clockTicksPerSecond
    }

    private func readIO(into reading: inout RawSample) throws(MonitoringError) {
        let bytes = try pread(ioFD, file: "io")
        guard let read = ProcText.field("read_bytes", in: bytes),
            let written = ProcText.field("write_bytes", in: bytes)
        else { throw unexpected("io") }
        reading.readBytes = read
        reading.writeBytes = written
    }

    private func readFDCount(into reading: inout RawSample) throws(MonitoringError) {
        if countsFDEntries || !SystemConstants.fdDirectorySizeIsCount {
            reading.fileDescriptorCount = try countFDEntries()
        } else {
            reading.fileDescriptorCount = try fileStatus(fdDirectoryFD, "fd").size
        }
    }

    /// Counts the entries of `/proc/[pid]/fd` (kernels before 6.2).
    private func countFDEntries() throws(MonitoringError) -> Int64 {
        let path = "/proc/\(pid)/fd"
        guard let directory = opendir(path) else {
            throw MonitoringError.from(errno: errno, pid: pid, path: path)
        }
        defer { closedir(directory) }
        var count: Int64 = 0
        errno = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != CChar(UInt8(ascii: ".")) { count += 1 }
        }
        guard errno == 0 else { throw MonitoringError.from(errno: errno, pid: pid, path: path) }
        return count
    }

    private func unexpected(_ file: StaticString) -> MonitoringError {
        .unreadable(path: "/proc/\(pid)/\(file)", errno: EINVAL)
    }
}
#endif
