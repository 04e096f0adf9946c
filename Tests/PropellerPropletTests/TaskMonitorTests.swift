import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

@testable import PropellerProplet

@Suite("Task monitor")
struct TaskMonitorTests {
    private func monitor(
        _ profile: MonitoringProfile,
        readings: ScriptedReadings,
        spawnedAt: ContinuousClock.Instant = .now
    ) throws -> TaskMonitor {
        try TaskMonitor(
            taskID: "t1",
            propletID: "p1",
            profile: profile,
            pid: 4242,
            spawnedAt: spawnedAt,
            totalMemoryBytes: 1 << 30,
            makeSampler: readings.factory
        )
    }

    private func exit(
        cpuSeconds: Double,
        after seconds: Double,
        maxRSS: Int64 = 8 << 20
    ) -> PropellerProplet.ChildProcess.Exit {
        .init(
            termination: .exited(code: 0),
            cpuSeconds: cpuSeconds,
            maxRSSBytes: maxRSS,
            diskReadBytes: 4096,
            diskWriteBytes: 512,
            exitedAt: ContinuousClock.now.advanced(by: .seconds(seconds)),
            stdout: [],
            stderrTail: []
        )
    }

    @Test("the monitor's reader is bound to the pid it was given")
    func boundToPid() throws {
        let readings = ScriptedReadings()
        _ = try monitor(.standard, readings: readings)
        #expect(readings.pids == [4242])
    }

    @Test("the final sample's CPU% is the rusage CPU time since the last reading over the wall time to exit")
    func finalCPUFromRusage() async throws {
        let readings = ScriptedReadings()
        readings.set(
            ProcessMetrics(cpuPercent: 50, memoryBytes: 64 << 20, threadCount: 3, fileDescriptorCount: 6),
            cpuSeconds: 2
        )
        let monitor = try monitor(.standard, readings: readings)
        _ = try #require(await monitor.sampleLive())
        let (sample, final) = await monitor.finalSample(exit: exit(cpuSeconds: 2.5, after: 1))
        let cpu = try #require(sample.metrics.cpuPercent)
        #expect(cpu > 45 && cpu <= 50.1)
        #expect(sample.metrics.memoryBytes == 64 << 20)
        #expect(sample.metrics.threadCount == 3)
        #expect(sample.metrics.fileDescriptorCount == 6)
        #expect(sample.metrics.diskReadBytes == 4096)
        #expect(sample.metrics.diskWriteBytes == 512)
        #expect(final.timestamp == sample.timestamp)
        #expect(final.metrics == sample.metrics)
        #expect(final.aggregated.sampleCount == 2)
        #expect(sample.aggregated?.sampleCount == 2)
    }

    @Test("a task shorter than its interval gets a final sample with its CPU time and peak RSS")
    func shortTask() async throws {
        let readings = ScriptedReadings()
        let spawned = ContinuousClock.now
        let monitor = try monitor(.standard, readings: readings, spawnedAt: spawned)
        let (sample, final) = await monitor.finalSample(exit: exit(cpuSeconds: 0.2, after: 0.2, maxRSS: 9 << 20))
        let cpu = try #require(sample.metrics.cpuPercent)
        #expect(cpu > 50)
        #expect(sample.metrics.memoryBytes == 9 << 20)
        #expect(sample.metrics.memoryPercent == Double(9 << 20) / Double(1 << 30) * 100)
        #expect(sample.metrics.uptimeSeconds == 0)
        #expect(sample.metrics.threadCount == nil)
        #expect(final.aggregated.sampleCount == 1)
    }

    @Test("minimal profile: disk, thread and fd fields are omitted and no aggregate is attached")
    func minimalProfile() async throws {
        let readings = ScriptedReadings()
        let monitor = try monitor(.minimal, readings: readings)
        let live = try #require(await monitor.sampleLive())
        #expect(live.aggregated == nil)
        #expect(live.metrics.diskReadBytes == nil)
        #expect(live.metrics.threadCount == nil)
        #expect(live.metrics.fileDescriptorCount == nil)
        #expect(live.metrics.cpuPercent != nil)
        let (sample, final) = await monitor.finalSample(exit: exit(cpuSeconds: 0.1, after: 0.1))
        #expect(sample.aggregated == nil)
        #expect(sample.metrics.diskReadBytes == nil)
        #expect(sample.metrics.uptimeSeconds != nil)
        #expect(final.aggregated.sampleCount == 2)
    }

    @Test("history is a window of history_size samples; the lifetime aggregate counts all")
    func historyWindow() async throws {
        var profile = MonitoringProfile.intensive
        profile.historySize = 3
        let monitor = try monitor(profile, readings: ScriptedReadings())
        var counts: [Int64] = []
        for _ in 0..<5 {
            counts.append(try #require(await monitor.sampleLive()?.aggregated?.sampleCount))
        }
        #expect(counts == [1, 2, 3, 3, 3])
        let (_, final) = await monitor.finalSample(exit: exit(cpuSeconds: 1, after: 0.1))
        #expect(final.aggregated.sampleCount == 6)
    }

    @Test("a process that has exited yields no periodic sample")
    func goneProcess() async throws {
        let readings = ScriptedReadings()
        let monitor = try monitor(.standard, readings: readings)
        readings.setProcessGone()
        #expect(await monitor.sampleLive() == nil)
    }

    @Test("periodic sampling happens once per profile interval of the injected clock")
    func periodic() async throws {
        let clock = ManualClock()
        var profile = MonitoringProfile.standard
        profile.interval = 5
        let monitor = try monitor(profile, readings: ScriptedReadings())
        let (stream, continuation) = AsyncStream<TaskSample>.makeStream()
        let loop = Task { await monitor.runPeriodic(clock: clock) { continuation.yield($0) } }
        var iterator = stream.makeAsyncIterator()
        var counts: [Int64] = []
        for step in 1...3 {
            try await clock.waitForSleepers(1)
            clock.advance(by: .seconds(4))
            try await Task.sleep(for: .milliseconds(20))
            #expect(clock.sleeperCount == 1, "no sample before the interval has passed (step \(step))")
            clock.advance(by: .seconds(1))
            counts.append(try #require(await iterator.next()?.aggregated?.sampleCount))
        }
        loop.cancel()
        await loop.value
        #expect(counts == [1, 2, 3])
    }
}
