#if os(Linux)
import Glibc

/// Reads one process's figures from `/proc` through files opened once and re-read with `pread` at
/// offset 0 (each `pread` regenerates the file).
///
/// `/proc/[pid]/stat` carries CPU times, threads, start time and RSS; `/proc/[pid]/io` the storage
/// bytes; `fstat` of `/proc/[pid]/fd` the fd count (Linux ≥ 6.2, otherwise its entries are counted).
/// Files the selection does not need are not opened. A kept-open file belongs to the process it was
/// opened for: after that process is reaped every read fails with `ESRCH`, even if the pid is reused.
struct LinuxProcessReader: ~Copyable {
    let pid: Int32
    private let statFD: Int32
    private let ioFD: Int32
    private let fdDirectoryFD: Int32
    private let countsFDEntries: Bool
    private let buffer: UnsafeMutableRawBufferPointer

    /// Large enough for `stat` with the longest command name and every field at its widest.
    private static let bufferSize = 4096

    /// Opens the files `selection` needs. `countsFDEntries` forces counting `/proc/[pid]/fd` entries
    /// instead of using its `st_size` (the path for kernels before 6.2).
    init(pid: Int32, selection: MetricSelection, countsFDEntries: Bool) throws(MonitoringError) {
        let base = "/proc/\(pid)"
        let statFD = try Self.open(base + "/stat", pid: pid, flags: O_RDONLY)
        var ioFD: Int32 = -1
        var fdDirectoryFD: Int32 = -1
        do throws(MonitoringError) {
            if selection.diskIO { ioFD = try Self.open(base + "/io", pid: pid, flags: O_RDONLY) }
            if selection.fileDescriptors {
                fdDirectoryFD = try Self.open(base + "/fd", pid: pid, flags: O_RDONLY | O_DIRECTORY)
            }
        } catch {
            close(statFD)
            if ioFD >= 0 { close(ioFD) }
            throw error
        }
        self.pid = pid
        self.statFD = statFD
        self.ioFD = ioFD
        self.fdDirectoryFD = fdDirectoryFD
        self.countsFDEntries = countsFDEntries
        self.buffer = .allocate(byteCount: Self.bufferSize, alignment: 8)
    }

    deinit {
        close(statFD)
        if ioFD >= 0 { close(ioFD) }
        if fdDirectoryFD >= 0 { close(fdDirectoryFD) }
        buffer.deallocate()
    }

    private static func open(_ path: String, pid: Int32, flags: Int32) throws(MonitoringError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC)
        guard fd >= 0 else { throw MonitoringError.from(errno: errno, pid: pid, path: path) }
        return fd
    }

    /// Updates `reading` with the selected figures. Throws `processGone` once the process has exited
    /// (including while it is a zombie: its figures are no longer its own).
    func read(into reading: inout RawProcessReading, selection: MetricSelection) throws(MonitoringError) {
        try readStat(into: &reading)
        if ioFD >= 0 { try readIO(into: &reading) }
        if fdDirectoryFD >= 0 { try readFDCount(into: &reading) }
    }

    private func pread(_ fd: Int32, file: StaticString) throws(MonitoringError) -> UnsafeRawBufferPointer {
        var count: Int
        repeat {
            count = Glibc.pread(fd, buffer.baseAddress!, buffer.count, 0)
        } while count < 0 && errno == EINTR
        guard count >= 0 else {
            throw MonitoringError.from(errno: errno, pid: pid, path: "/proc/\(pid)/\(file)")
        }
        return UnsafeRawBufferPointer(rebasing: buffer[0..<count])
    }

    /// Fields of `stat` (1-based, after the command name): 3 state, 14 utime, 15 stime,
    /// 20 num_threads, 22 starttime, 24 rss.
    private func readStat(into reading: inout RawProcessReading) throws(MonitoringError) {
        let bytes = try pread(statFD, file: "stat")
        reading.clockSeconds = SystemConstants.bootClockSeconds()
        // The command name may contain spaces and parentheses: fields start after the last ')'.
        var closing = bytes.count - 1
        while closing > 0, bytes[closing] != UInt8(ascii: ")") { closing -= 1 }
        guard closing > 0, closing + 2 < bytes.count else { throw unexpected("stat") }
        let state = bytes[closing + 2]
        if state == UInt8(ascii: "Z") || state == UInt8(ascii: "X") || state == UInt8(ascii: "x") {
            throw MonitoringError.processGone(pid: pid)
        }
        var position = closing + 3
        var field = 4
        var ticks: Int64 = 0
        while field <= 24 {
            let (value, end) = ProcText.integer(in: bytes, from: position)
            guard end > position, end < bytes.count else { throw unexpected("stat") }
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

    private func readIO(into reading: inout RawProcessReading) throws(MonitoringError) {
        let bytes = try pread(ioFD, file: "io")
        guard let read = ProcText.field("read_bytes", in: bytes),
            let written = ProcText.field("write_bytes", in: bytes)
        else { throw unexpected("io") }
        reading.readBytes = read
        reading.writeBytes = written
    }

    private func readFDCount(into reading: inout RawProcessReading) throws(MonitoringError) {
        if countsFDEntries || !SystemConstants.fdDirectorySizeIsCount {
            reading.fileDescriptorCount = try countFDEntries()
            return
        }
        var info = stat()
        guard fstat(fdDirectoryFD, &info) == 0 else {
            throw MonitoringError.from(errno: errno, pid: pid, path: "/proc/\(pid)/fd")
        }
        reading.fileDescriptorCount = Int64(info.st_size)
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
