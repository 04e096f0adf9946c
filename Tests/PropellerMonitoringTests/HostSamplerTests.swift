#if os(Linux)
import Foundation
import PropellerCore
import PropellerMonitoring
import Testing

/// Host-wide figures against `/proc` read independently.
@Suite("HostSampler")
struct HostSamplerTests {
    @Test("host memory matches /proc/meminfo and CPU% and load are in range")
    func hostFigures() async throws {
        var sampler = HostSampler()
        // Burn a little CPU so the interval has busy ticks.
        let deadline = ContinuousClock.now + .milliseconds(300)
        var spins = 0
        while ContinuousClock.now < deadline { spins &+= 1 }
        let host = sampler.sample()
        #expect(spins > 0)
        #expect(host.memoryTotalBytes == ProcFixture.memTotalBytes())
        #expect(host.memoryUsedBytes > 0)
        #expect(host.memoryUsedBytes < host.memoryTotalBytes)
        #expect(host.cpuPercent > 0)
        #expect(host.cpuPercent <= 100)
        let loadText = try String(contentsOfFile: "/proc/loadavg", encoding: .utf8)
        let load = try #require(Double(loadText.split(separator: " ")[0]))
        #expect(abs(host.load1m - load) <= 1)
        #expect(host.load1m >= 0)
    }
}
#endif
