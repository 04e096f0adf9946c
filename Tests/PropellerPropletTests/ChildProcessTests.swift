import Foundation
import Testing

@testable import PropellerProplet

@Suite("Runner child processes")
struct ChildProcessTests {
    @Test("stdout, stderr and the exit status are captured, and the child is reaped")
    func exitStatus() async throws {
        let child = try PropellerProplet.ChildProcess.spawn(
            executable: "/bin/sh",
            arguments: ["-c", "echo out; echo err >&2; exit 7"]
        )
        let exit = await child.waitForExit()
        #expect(String(decoding: exit.stdout, as: UTF8.self) == "out\n")
        #expect(String(decoding: exit.stderrTail, as: UTF8.self) == "err\n")
        #expect(exit.termination == .exited(code: 7))
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(child.pid)"))
        #expect(!child.signal(SIGTERM))
    }

    @Test("a signal that kills the child is reported with its name")
    func killedBySignal() async throws {
        let child = try PropellerProplet.ChildProcess.spawn(executable: "/bin/sleep", arguments: ["30"])
        #expect(child.signal(SIGKILL))
        let exit = await child.waitForExit()
        #expect(exit.termination == .signaled(signal: SIGKILL))
        #expect(exit.termination?.description.contains("SIGKILL") == true)
    }

    @Test("the child's CPU time comes from its rusage")
    func cpuTime() async throws {
        let child = try PropellerProplet.ChildProcess.spawn(
            executable: "/bin/sh",
            arguments: ["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"]
        )
        let exit = await child.waitForExit()
        #expect(exit.termination == .exited(code: 0))
        #expect(exit.cpuSeconds > 0.01)
        #expect(exit.maxRSSBytes > 0)
    }

    @Test("descriptors of the parent do not leak into the child")
    func noLeakedDescriptors() async throws {
        let fd = open("/dev/null", O_RDONLY)  // deliberately not close-on-exec
        defer { close(fd) }
        let child = try PropellerProplet.ChildProcess.spawn(
            executable: "/bin/sh",
            arguments: ["-c", "ls /proc/$$/fd"]
        )
        let exit = await child.waitForExit()
        let fds = String(decoding: exit.stdout, as: UTF8.self).split(separator: "\n").compactMap { Int($0) }
        #expect(fds.contains(1))
        #expect(!fds.contains(Int(fd)))
        #expect(fds.allSatisfy { $0 <= 3 })
    }

    @Test("a missing executable is a spawn error naming the path")
    func missingExecutable() throws {
        let error = #expect(throws: PropletError.self) {
            try PropellerProplet.ChildProcess.spawn(executable: "/nonexistent/runner", arguments: [])
        }
        #expect(error?.description.contains("/nonexistent/runner") == true)
    }
}
