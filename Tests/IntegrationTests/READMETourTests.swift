import Foundation
import PropellerCore
import PropellerTestSupport
import Testing
import WAT

#if canImport(Glibc)
import Glibc
#endif

@Suite("propeller dev and the README tour", .timeLimit(.minutes(5)))
struct READMETourTests {
    /// The shell blocks between `<!-- tour:begin -->` and `<!-- tour:end -->` in README.md, in order.
    static func tourScript(_ marker: String = "tour") throws -> String {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let begin = readme.range(of: "<!-- \(marker):begin -->"),
            let end = readme.range(of: "<!-- \(marker):end -->")
        else { throw HarnessError("README.md has no \(marker) markers") }
        var blocks: [String] = []
        var current: [Substring]?
        for line in readme[begin.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```sh") {
                current = []
            } else if line.hasPrefix("```"), let lines = current {
                blocks.append(lines.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks.joined(separator: "\n")
    }

    @Test(
        "the README's CLI block runs as written with `propeller` from `make install` (the test's debug build) into a temporary PREFIX"
    )
    func cliTour() async throws {
        let script = try Self.tourScript("cli-tour")
        #expect(script.contains("propeller task create"))
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent(
            "propeller-prefix-\(UUID().uuidString)"
        )
        defer { try? FileManager.default.removeItem(at: prefix) }
        // `make install` is a release build into PREFIX. The test runs the same target and so the same
        // install steps, but with INSTALL_FROM pointing at the debug binaries the tests run: no release build
        // (≈5 minutes on 2 cores, too slow for CI), and no `swift build`, which would wait for the lock
        // `swift test` holds on .build. The installed `propeller` must then be the one the block runs.
        let install = try await runCommand(
            "/usr/bin/make",
            ["-s", "install", "PREFIX=\(prefix.path)", "INSTALL_FROM=\(BinaryLocator.binDirectory.path)"],
            directory: repositoryRoot,
            timeout: .seconds(600)
        )
        try #require(install.status == 0, "make install failed:\n\(install.stdout)\n\(install.stderr)")
        let installed = prefix.appendingPathComponent("bin/propeller").path
        #expect(FileManager.default.isExecutableFile(atPath: installed))
        #expect(FileManager.default.contentsEqual(atPath: installed, andPath: BinaryLocator.path(of: "propeller")))
        #expect(
            FileManager.default.fileExists(atPath: prefix.appendingPathComponent("share/propeller/web/index.html").path)
        )
        try await withDevStack { stack in
            let result = try await runCommand(
                "/bin/bash",
                ["-c", "set -euo pipefail\ncommand -v propeller\n" + script],
                environment: [
                    "PATH": prefix.appendingPathComponent("bin").path + ":/usr/bin:/bin",
                    "PROPELLER_MANAGER_URL": stack.managerURL,
                ],
                directory: repositoryRoot,
                timeout: .seconds(120)
            )
            #expect(
                result.status == 0,
                "CLI tour failed:\n\(result.stdout)\n\(result.stderr)\n--- dev log ---\n\(stack.log)"
            )
            #expect(result.stdout.hasPrefix(installed), "the installed propeller ran: \(result.stdout)")
            #expect(result.stdout.contains(" stopped\n"), "task stop printed the end state: \(result.stdout)")
            #expect(result.stdout.contains("dev-proplet  true"), "proplet list: \(result.stdout)")
        }
    }

    @Test(
        "the README's registry block runs as written against `propeller dev --registry`: push, then a task from image_url completes with 42"
    )
    func pushTour() async throws {
        let script = try Self.tourScript("push-tour")
        #expect(script.contains("propeller push") && script.contains("image_url"))
        let registryPort = try LoopbackPort.free()
        let registry = "127.0.0.1:\(registryPort)"
        // Loopback fetches are refused unless allowed: the stack's environment says no, so the task can only
        // complete when `--registry` allows them for its proplet, as the README says.
        try await withDevStack(
            allowPrivateRegistries: false,
            arguments: ["--registry", "--registry-port", String(registryPort)]
        ) { stack in
            #expect(stack.log.contains("OCI registry  \(registry)"), "\(stack.log)")
            let bin = URL(fileURLWithPath: BinaryLocator.path(of: "propeller")).deletingLastPathComponent().path
            let result = try await runCommand(
                "/bin/bash",
                ["-c", "set -euo pipefail\n" + script],
                environment: ["PATH": bin + ":/usr/bin:/bin", "MANAGER": stack.managerURL, "REGISTRY": registry],
                directory: repositoryRoot,
                timeout: .seconds(120)
            )
            #expect(
                result.status == 0,
                "push tour failed:\n\(result.stdout)\n\(result.stderr)\n--- dev log ---\n\(stack.log)"
            )
            #expect(result.stdout.hasPrefix("sha256:"), "propeller push printed the digest: \(result.stdout)")
            // The module is in the registry the stack started, under the stack's data directory.
            let blobs = stack.dataDir.appendingPathComponent("registry/docker/registry/v2/blobs/sha256")
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: blobs.path)) ?? []).count >= 2)
        }
    }

    @Test("the README's curl tour runs as written against a live propeller dev, and SIGINT stops everything")
    func tour() async throws {
        let script = try Self.tourScript()
        #expect(script.contains("curl"))
        try await withDevStack { stack in
            let result = try await runCommand(
                "/bin/bash",
                ["-c", "set -euo pipefail\n" + script],
                environment: ["MANAGER": stack.managerURL],
                directory: repositoryRoot,
                timeout: .seconds(120)
            )
            #expect(
                result.status == 0,
                "tour failed:\n\(result.stdout)\n\(result.stderr)\n--- dev log ---\n\(stack.log)"
            )
            // Leave a daemon running so shutdown must also stop the proplet's task processes.
            let demo = try String(
                contentsOf: repositoryRoot.appendingPathComponent("Examples/demo.wat"),
                encoding: .utf8
            )
            let wasm = try wat2wasm(demo)
            let (created, task) = try await stack.request(
                "POST",
                "/tasks",
                body: #"{"name":"_start","daemon":true,"file":"\#(Data(wasm).base64EncodedString())"}"#
            )
            #expect(created == 201)
            let id = try task.decoded(as: WasmTask.self).id
            let (started, _) = try await stack.request("POST", "/tasks/\(id)/start", body: "{}")
            #expect(started == 200)
        }
    }

    @Test("--demo starts the intensive example task and prints its samples as they arrive")
    func demo() async throws {
        try await withDevStack(demo: true) { stack in
            let deadline = ContinuousClock.now + .seconds(30)
            var lines: [Substring] = []
            while ContinuousClock.now < deadline {
                lines = stack.log.split(separator: "\n").filter { $0.contains(" cpu ") && $0.contains(" memory ") }
                if lines.count >= 3 { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(lines.count >= 3, "demo printed too few samples:\n\(stack.log)")
            #expect(stack.log.contains("profile intensive"))
            // An external subscriber sees the demo task's samples about every second.
            let subscribed = try await runCommand(
                "/usr/bin/mosquitto_sub",
                [
                    "-h", "127.0.0.1", "-p", String(stack.mqttPort), "-t", "m/+/c/+/metrics/#", "-v", "-C", "4", "-W",
                    "20",
                ],
                timeout: .seconds(30)
            )
            let stamps = subscribed.stdout.split(separator: "\n").compactMap { line -> Timestamp? in
                guard let brace = line.firstIndex(of: "{") else { return nil }
                let sample = try? WireCoding.decode(TaskSample.self, from: Data(line[brace...].utf8))
                return sample?.timestamp
            }
            #expect(stamps.count == 4, "mosquitto_sub saw: \(subscribed.stdout)\(subscribed.stderr)")
            for (earlier, later) in zip(stamps, stamps.dropFirst()) {
                let gap = later.secondsSinceEpoch - earlier.secondsSinceEpoch
                #expect(gap > 0.5 && gap < 1.6, "samples \(gap) s apart")
            }
        }
    }
}
