#if os(Linux)
import Foundation
import PropellerCore
import PropellerMonitoring
import PropellerTestSupport
import Testing

/// `ProcessSampler` against real child processes that measure themselves (SPEC §2 field table).
@Suite("ProcessSampler accuracy")
struct ProcessSamplerAccuracyTests {
    @Test("a busy child's CPU% over 1 s matches the CPU time it measured itself, within 10 %, and is ≥ 50 %")
    func busyChildCPU() async throws {
        let program = try await ProbeProgram.compile()
        defer { program.remove() }
        let probe = try await Probe(program)
        // Two spinning threads (reniced when the test may) keep the child above 50 % of a core even
        // on a loaded 2-core machine; the accuracy check itself holds under any load.
        try probe.command("spin 2")
        let sampler = try ProcessSampler(pid: probe.pid)
        try await Task.sleep(for: .milliseconds(200))

        _ = try sampler.sample()
        let cpuStart = try probe.cpuSeconds()
        let wallStart = ContinuousClock.now
        try await Task.sleep(for: .seconds(1))
        let sample = try sampler.sample()
        let cpuEnd = try probe.cpuSeconds()
        let wall = (ContinuousClock.now - wallStart).seconds

        let measured = (cpuEnd - cpuStart) / wall * 100
        let sampled = try #require(sample.cpuPercent)
        #expect(abs(sampled - measured) <= 0.10 * measured, "sampled \(sampled) %, child measured \(measured) %")
        #expect(sampled >= 50, "child measured \(measured) %")
        #expect(abs(sampler.lastCPUSeconds - cpuEnd) <= 0.10 * cpuEnd)
    }

    @Test("an idle child reads under 5 % CPU, from the first sample on")
    func idleChildCPU() async throws {
        let program = try await ProbeProgram.compile()
        defer { program.remove() }
        let probe = try await Probe(program)
        let sampler = try ProcessSampler(pid: probe.pid)
        try await Task.sleep(for: .seconds(1))
        let sample = try sampler.sample()
        let cpu = try #require(sample.cpuPercent)
        #expect(cpu >= 0)
        #expect(cpu < 5)
    }

    @Test("a child holding 200 MiB of touched memory reads memory_bytes within 10 % and a consistent memory_percent")
    func memory() async throws {
        let program = try await ProbeProgram.compile()
        defer { program.remove() }
        let probe = try await Probe(program)
        try probe.command("alloc 200")
        let sample = try ProcessSampler(pid: probe.pid).sample()

        let held = 200.0 * 1024 * 1024
        let bytes = Double(try #require(sample.memoryBytes))
        #expect(abs(bytes - held) <= 0.10 * held, "memory_bytes \(bytes)")
        let statusRSS = try #require(ProcFixture.statusKibibytes("VmRSS", pid: probe.pid)) * 1024
        // The kernel's per-CPU RSS counters make some readers approximate: compare loosely.
        #expect(abs(bytes - Double(statusRSS)) <= 0.02 * held, "VmRSS \(statusRSS)")

        let viaStat = try ProcessSampler(pid: probe.pid, selection: .all, countsFDEntries: false, parsesStat: true)
        let statBytes = Double(try #require(try viaStat.sample().memoryBytes))
        #expect(abs(statBytes - held) <= 0.10 * held, "rss from stat \(statBytes)")

        let memTotal = Double(try #require(ProcFixture.memTotalBytes()))
        let percent = try #require(sample.memoryPercent)
        #expect(abs(percent - bytes / memTotal * 100) <= 1e-9 * percent)
        #expect(HostSampler.totalMemoryBytes() == Int64(memTotal))
    }

    @Test("a child that writes and fsyncs 16 MiB shows disk_write_bytes ≥ 16 MiB")
    func diskWrites() async throws {
        let program = try await ProbeProgram.compile()
        defer { program.remove() }
        let directory = try ProcFixture.diskBackedDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let probe = try await Probe(program)
        let sampler = try ProcessSampler(pid: probe.pid)
        let before = try #require(try sampler.sample().diskWriteBytes)
        try probe.command("write \(directory.appendingPathComponent("data").path) 16")
        let sample = try sampler.sample()
        let written = try #require(sample.diskWriteBytes)
        #expect(written - before >= 16 * 1024 * 1024, "disk_write_bytes \(written), before \(before)")
        #expect(sample.diskReadBytes != nil)
    }

    @Test(
        "4 extra threads and 20 extra open files read exactly that above the baseline",
        arguments: [(false, false), (true, false), (false, true)]
    )
    func threadsAndFiles(countingEntries: Bool, parsingStat: Bool) async throws {
        let program = try await ProbeProgram.compile()
        defer { program.remove() }
        let probe = try await Probe(program)
        let sampler = try ProcessSampler(
            pid: probe.pid,
            selection: .all,
            countsFDEntries: countingEntries,
            parsesStat: parsingStat
        )
        // The child may still be settling its descriptors just after it started (seen once in CI: 3
        // read, 4 in /proc a moment later): the baseline is the first reading that /proc confirms.
        var baseline = try sampler.sample()
        for _ in 0..<50 where baseline.fileDescriptorCount != ProcFixture.fdEntries(pid: probe.pid) {
            try await Task.sleep(for: .milliseconds(20))
            baseline = try sampler.sample()
        }
        #expect(baseline.threadCount == 1)
        #expect(baseline.fileDescriptorCount == ProcFixture.fdEntries(pid: probe.pid))

        try probe.command("park 4")
        try probe.command("open 20")
        let grown = try sampler.sample()
        let threads = try #require(grown.threadCount)
        let files = try #require(grown.fileDescriptorCount)
        #expect(threads - baseline.threadCount! == 4)
        // The exact count is checked against /proc itself; the difference from the baseline only from
        // below, because a descriptor the child inherited can be closed between the two samples (seen
        // once in CI: 19 instead of 20).
        #expect(files - baseline.fileDescriptorCount! >= 19)
        #expect(files == ProcFixture.fdEntries(pid: probe.pid))
    }

    @Test("uptime_seconds tracks the child's age within 1 s")
    func uptime() async throws {
        let program = try await ProbeProgram.compile()
        defer { program.remove() }
        let spawned = ContinuousClock.now
        let probe = try await Probe(program)
        let sampler = try ProcessSampler(pid: probe.pid)
        let viaStat = try ProcessSampler(pid: probe.pid, selection: .all, countsFDEntries: false, parsesStat: true)
        for wait in [Duration.milliseconds(300), .milliseconds(1500), .milliseconds(1000)] {
            try await Task.sleep(for: wait)
            let sample = try sampler.sample()
            let age = (ContinuousClock.now - spawned).seconds
            let uptime = Double(try #require(sample.uptimeSeconds))
            #expect(abs(uptime - age) <= 1, "uptime_seconds \(uptime), age \(age)")
            let statUptime = Double(try #require(try viaStat.sample().uptimeSeconds))
            #expect(abs(statUptime - age) <= 1, "uptime_seconds from stat \(statUptime), age \(age)")
        }
    }
}

extension Duration {
    /// This duration in seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
#endif
