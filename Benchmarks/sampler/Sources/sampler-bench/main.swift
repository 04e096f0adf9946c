// ProcessSampler's side of Benchmarks/sampler.
//
//   sampler-bench PID COUNT   → "median_ns N" and "p90_ns N" over COUNT full samples of PID
//   sampler-bench memory      → bytes per retained MetricsHistory sample (layout and measured heap)
#if os(Linux)
import Glibc
#else
import Darwin
#endif
import PropellerCore
import PropellerMonitoring

func nanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

func fail(_ message: String) -> Never {
    fputs("sampler-bench: \(message)\n", stderr)
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

func heapBytesInUse() -> Int {
    #if os(Linux)
    Int(mallinfo2().uordblks)
    #else
    0
    #endif
}

func benchmarkMemory() {
    let capacity = 10_000
    let before = heapBytesInUse()
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
    let after = heapBytesInUse()
    let aggregate = history.aggregate()
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
