// ProcessSampler's side of Benchmarks/sampler.
//
//   sampler-bench PID COUNT   → "median_ns N" and "p90_ns N" over COUNT full samples of PID
//   sampler-bench memory      → bytes per retained MetricsHistory sample (layout and measured heap)
import PropellerCore
import PropellerMonitoring

#if os(Linux)
import Glibc
#else
import Darwin
#endif

func nanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

func fail(_ message: String) -> Never {
    let line = Array("sampler-bench: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func benchmarkSampling(pid: Int32, count: Int) {
    let sampler: ProcessSampler
    do {
        sampler = try ProcessSampler(pid: pid)
    } catch {
        fail("\(error)")
    }
    var timings = [Int64](repeating: 0, count: count)
    var checksum: Int64 = 0
    var last = ProcessMetrics()
    for index in -count / 10..<count {
        let start = nanoseconds()
        do {
            last = try sampler.sample()
        } catch {
            fail("\(error)")
        }
        let end = nanoseconds()
        checksum &+= (last.threadCount ?? 0) &+ (last.fileDescriptorCount ?? 0)
        if index >= 0 { timings[index] = end - start }
    }
    timings.sort()
    print("median_ns \(timings[count / 2])")
    print("p90_ns \(timings[count * 9 / 10])")
    print(
        "last threads=\(last.threadCount ?? -1) fds=\(last.fileDescriptorCount ?? -1) "
            + "rss=\(last.memoryBytes ?? -1) checksum=\(checksum)"
    )
}

/// Resident bytes of this process (`/proc/self/statm`), 0 where unavailable.
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard count > 0 else { return 0 }
    let fields = String(decoding: buffer[..<count], as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// A history of `capacity` filled twice over with made-up samples.
func filledHistory(capacity: Int) -> MetricsHistory {
    var history = MetricsHistory(capacity: capacity)
    for index in 0..<(capacity * 2) {
        history.append(
            ProcessMetrics(
                cpuPercent: Double(index % 400),
                memoryBytes: Int64(index) << 12,
                diskReadBytes: Int64(index) * 512,
                diskWriteBytes: Int64(index) * 1024
            )
        )
    }
    return history
}

/// Reports the layout size and the measured resident growth of a 300,000-sample history filled twice
/// over. A 100,000-sample history is filled first, so one-time costs (first-use code pages, malloc's
/// own growth — about 0.4 MB here) are not charged to the samples.
func benchmarkMemory() {
    let warmUp = filledHistory(capacity: 100_000)
    let capacity = 300_000
    let before = residentBytes()
    let history = filledHistory(capacity: capacity)
    let after = residentBytes()
    let aggregate = history.aggregate()
    precondition(warmUp.count == 100_000)
    print("layout_bytes \(MetricsHistory.bytesPerSample)")
    print("heap_bytes_per_sample \(Double(after - before) / Double(capacity))")
    print("samples \(history.count) check \(aggregate.sampleCount)")
}

let arguments = CommandLine.arguments
if arguments.count == 2, arguments[1] == "memory" {
    benchmarkMemory()
} else if arguments.count == 3, let pid = Int32(arguments[1]), let count = Int(arguments[2]), pid > 0, count > 0 {
    benchmarkSampling(pid: pid, count: count)
} else {
    fail("usage: sampler-bench PID COUNT | sampler-bench memory")
}
