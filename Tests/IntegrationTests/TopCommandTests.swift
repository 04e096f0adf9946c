import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

/// `propeller top` in a real pseudo-terminal of 80×24 (tmux).
@Suite("propeller top in a terminal", .serialized)
struct TopCommandTests {
    @Test("top renders every running task in 80×24 without wrapping, sorted by CPU")
    func topFitsEightyColumns() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "tmux is not installed")
        try await withDevStack { stack in
            var ids: [String] = []
            for _ in 0..<3 { ids.append(try await startDemoTask(stack)) }
            for id in ids { _ = try await waitForSamples(stack, id, count: 2) }
            let session = "propeller-top-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let command =
                "PROPELLER_MANAGER_URL=\(stack.managerURL) \(BinaryLocator.path(of: "propeller")) top --interval 1"
            // Through Python, which closes inherited descriptors: the tmux server outlives the client, and an
            // inherited descriptor would keep Foundation from noticing that the client exited.
            let started = try await runCommand(
                "/usr/bin/python3",
                [
                    "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))",
                    "/usr/bin/tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command,
                ],
                timeout: .seconds(30)
            )
            #expect(started.status == 0, "\(started.stderr)")
            // The session is killed whatever happens (after `q` it is already gone).
            do {
                var screen = ""
                let deadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < deadline {
                    try await Task.sleep(for: .seconds(1))
                    screen = try await runCommand("/usr/bin/tmux", ["capture-pane", "-p", "-t", session]).stdout
                    if ids.allSatisfy({ id in screen.contains(String(id.prefix(8))) }) && screen.contains("MiB") {
                        break
                    }
                }
                let lines = (screen.hasSuffix("\n") ? String(screen.dropLast()) : screen)
                    .split(separator: "\n", omittingEmptySubsequences: false)
                #expect(lines.count <= 24)
                #expect(lines.allSatisfy { $0.count <= 80 }, "\(screen)")
                #expect(
                    screen.contains("3 running") && screen.contains("CPU%") && screen.contains("READ/s"),
                    "\(screen)"
                )
                for id in ids {
                    let row = try #require(lines.first { $0.hasPrefix(id.prefix(8)) }, "task \(id) missing:\n\(screen)")
                    #expect(row.contains("_start") && row.contains("MiB"), "one line per task, not wrapped: \(row)")
                }
                let cpus = lines.filter { line in ids.contains { line.hasPrefix($0.prefix(8)) } }.compactMap { line in
                    line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).first.flatMap {
                        Double($0)
                    }
                }
                #expect(cpus == cpus.sorted(by: >), "sorted by CPU, highest first: \(cpus)\n\(screen)")
                _ = try await runCommand("/usr/bin/tmux", ["send-keys", "-t", session, "q"])
                try await Task.sleep(for: .seconds(2))
                let alive = try await runCommand("/usr/bin/tmux", ["has-session", "-t", session])
                #expect(alive.status != 0, "q quits top (and ends the tmux session)")
            } catch {
                _ = try? await runCommand("/usr/bin/tmux", ["kill-session", "-t", session])
                throw error
            }
            _ = try? await runCommand("/usr/bin/tmux", ["kill-session", "-t", session])
        }
    }
}
