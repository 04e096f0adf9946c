#if os(Linux)
import Foundation
import Glibc
import PropellerCore
import PropellerMonitoring
import PropellerTestSupport
import Testing

/// A process that has exited gives a typed `processGone` error, never stale or zero figures.
@Suite("ProcessSampler process gone")
struct ProcessGoneTests {
    @Test("opening a sampler for a reaped pid throws processGone")
    func reapedBeforeOpen() async throws {
        let program = try await ProbeProgram.compile()
        defer { program.remove() }
        let probe = try await Probe(program)
        let pid = probe.pid
        try probe.process.send("exit")
        #expect(await probe.process.wait() != nil)
        #expect(throws: MonitoringError.processGone(pid: pid)) { try ProcessSampler(pid: pid) }
    }

    @Test(
        "sampling a child that was killed and reaped throws processGone",
        arguments: [(false, false), (true, false), (false, true)]
    )
    func reapedWhileOpen(countingEntries: Bool, parsingStat: Bool) async throws {
        let program = try await ProbeProgram.compile()
        defer { program.remove() }
        let probe = try await Probe(program)
        let sampler = try ProcessSampler(
            pid: probe.pid,
            selection: .all,
            countsFDEntries: countingEntries,
            parsesStat: parsingStat
        )
        _ = try sampler.sample()
        probe.process.signal(SIGKILL)
        await probe.process.wait()
        #expect(throws: MonitoringError.processGone(pid: probe.pid)) { try sampler.sample() }
    }

    @Test(
        "sampling a child that exited but is not reaped yet (a zombie) throws processGone",
        arguments: [false, true]
    )
    func zombie(parsingStat: Bool) async throws {
        let program = try await ProbeProgram.compile()
        defer { program.remove() }
        let probe = try await Probe(program)
        let sampler = try ProcessSampler(
            pid: probe.pid,
            selection: .all,
            countsFDEntries: false,
            parsesStat: parsingStat
        )
        try probe.process.send("exit")
        var state = ProcFixture.state(pid: probe.pid)
        for _ in 0..<200 where state != "Z" {
            try await Task.sleep(for: .milliseconds(25))
            state = ProcFixture.state(pid: probe.pid)
        }
        try #require(state == "Z")
        #expect(throws: MonitoringError.processGone(pid: probe.pid)) { try sampler.sample() }
        await probe.process.wait()
    }

    @Test("a pid that never existed throws processGone, and the message names the pid")
    func neverExisted() async throws {
        let pid = Int32.max
        #expect(throws: MonitoringError.processGone(pid: pid)) { try ProcessSampler(pid: pid) }
        #expect(MonitoringError.processGone(pid: pid).description.contains("\(pid)"))
        let unreadable = MonitoringError.unreadable(path: "/proc/1/io", errno: EACCES)
        #expect(unreadable.description.contains("/proc/1/io"))
        #expect(unreadable.description.contains("ermission"))
    }
}
#endif
