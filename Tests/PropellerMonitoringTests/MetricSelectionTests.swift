#if os(Linux)
import Foundation
import Glibc
import PropellerCore
import PropellerMonitoring
import Testing

/// The profile's `collect_*` switches decide which metrics a sample carries.
@Suite("MetricSelection")
struct MetricSelectionTests {
    @Test("a selection copies the profile's collect switches")
    func fromProfile() {
        let minimal = MetricSelection(profile: .minimal)
        #expect(
            minimal == MetricSelection(cpu: true, memory: true, diskIO: false, threads: false, fileDescriptors: false)
        )
        #expect(MetricSelection(profile: .standard) == .all)
        var profile = MonitoringProfile.standard
        profile.collectCPU = false
        profile.collectFileDescriptors = false
        #expect(MetricSelection(profile: profile) == MetricSelection(cpu: false, fileDescriptors: false))
    }

    @Test("a sample of the minimal profile carries only cpu, memory and uptime")
    func minimalSample() throws {
        let sample = try ProcessSampler(pid: getpid(), selection: MetricSelection(profile: .minimal)).sample()
        #expect(sample.cpuPercent != nil)
        #expect(sample.memoryBytes != nil)
        #expect(sample.memoryPercent != nil)
        #expect(sample.uptimeSeconds != nil)
        #expect(sample.diskReadBytes == nil)
        #expect(sample.diskWriteBytes == nil)
        #expect(sample.threadCount == nil)
        #expect(sample.fileDescriptorCount == nil)
    }

    @Test("with collect_cpu false the CPU time is not read and cpu_percent is absent")
    func noCPU() throws {
        let sampler = try ProcessSampler(pid: getpid(), selection: MetricSelection(cpu: false))
        let sample = try sampler.sample()
        #expect(sample.cpuPercent == nil)
        #expect(sampler.lastCPUSeconds == 0)
        #expect(sample.memoryBytes != nil)
        #expect(sample.threadCount != nil)
    }

    @Test("with collect_disk_io false the sample's JSON has no disk_* keys")
    func noDiskKeys() throws {
        var profile = MonitoringProfile.standard
        profile.collectDiskIO = false
        let sample = try ProcessSampler(pid: getpid(), selection: MetricSelection(profile: profile)).sample()
        let json = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(sample)) as? [String: Any]
        )
        #expect(
            Set(json.keys) == [
                "cpu_percent", "memory_bytes", "memory_percent", "uptime_seconds", "thread_count",
                "file_descriptor_count",
            ]
        )
    }

    @Test("a full sample of this test process has every metric and plausible values")
    func fullSampleOfSelf() throws {
        let sampler = try ProcessSampler(pid: getpid())
        #expect(sampler.pid == getpid())
        let sample = try sampler.sample()
        #expect(try #require(sample.memoryBytes) > 0)
        #expect(try #require(sample.threadCount) >= 1)
        #expect(try #require(sample.fileDescriptorCount) >= 3)
        #expect(try #require(sample.diskReadBytes) >= 0)
        #expect(try #require(sample.diskWriteBytes) >= 0)
        #expect(try #require(sample.uptimeSeconds) >= 0)
        #expect(sampler.lastCPUSeconds > 0)
    }
}
#endif
