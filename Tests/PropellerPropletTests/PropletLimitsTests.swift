import Foundation
import PropellerCore
import PropellerLauncher
import PropellerMQTT
import PropellerTestSupport
import Testing

/// Limits and runtimes with a real broker and the real `propeller proplet` process (SPEC §5, §6).
@Suite("Proplet process: task limits and the Wasm runtime", .serialized)
struct PropletLimitsTests {
    @Test(
        "a memory bomb, an endless loop and a sleeping daemon fail at their limits while a canary keeps one sample per second",
        arguments: RuntimeUnderTest.allCases
    )
    func limits(runtime: RuntimeUnderTest) async throws {
        try await withMosquitto { broker in
            try await withProplet(broker: broker, environment: runtime.environment) { proplet in
                try await proplet.start("canary", fixture: "daemon", name: "_start", daemon: true, profile: .intensive)
                try await proplet.start(
                    "bomb",
                    fixture: "bomb",
                    name: "bomb",
                    profile: .intensive,
                    limits: TaskLimits(memoryBytes: 64 << 20)
                )
                try await proplet.start(
                    "loop",
                    fixture: "burn",
                    name: "burn",
                    inputs: [.integer(3_600_000)],
                    profile: .intensive,
                    limits: TaskLimits(cpuSeconds: 2)
                )
                try await proplet.start(
                    "sleeper",
                    fixture: "daemon",
                    name: "_start",
                    daemon: true,
                    profile: .intensive,
                    limits: TaskLimits(timeoutSeconds: 3)
                )

                let limit: Int64 = 64 << 20
                let bomb = try await proplet.result(of: "bomb")
                #expect(bomb.state == .failed)
                #expect(bomb.error == "memory limit of 67108864 bytes exceeded")
                let bombFinal = try #require(bomb.finalMetrics)
                let peak = bombFinal.aggregated.maxMemoryUsage
                #expect(peak <= limit + limit / 10, "peak RSS \(peak)")
                #expect(peak >= limit / 2, "peak RSS \(peak): the bomb did grow")
                for sample in proplet.samples(of: "bomb") {
                    #expect((sample.metrics.memoryBytes ?? 0) <= limit + limit / 10)
                }

                let loop = try await proplet.result(of: "loop")
                #expect(loop.state == .failed)
                #expect(loop.error == "cpu limit of 2 seconds exceeded")
                #expect(try seconds(of: loop) >= 1.9)
                #expect(loop.finalMetrics != nil)

                let sleeper = try await proplet.result(of: "sleeper")
                #expect(sleeper.state == .failed)
                #expect(sleeper.error == "timeout of 3 seconds exceeded")
                let slept = try seconds(of: sleeper)
                #expect(slept >= 3 && slept < 8, "ran \(slept) s")
                #expect(sleeper.finalMetrics != nil)

                // The canary kept running and sampled once a second all along.
                // The window runs from the limited tasks' start to two seconds after the last of them
                // ended: on a loaded machine the canary's own start (Wasmtime precompiles it) can take
                // a while, so the count is judged against the time the canary was actually sampled.
                let lastEnd = [loop, sleeper, bomb].compactMap { $0.finishedAt?.microsecondsSinceEpoch }.max() ?? 0
                try await Task.sleep(for: .seconds(2.5))
                let until = lastEnd + 2_000_000
                try await proplet.stop("canary")
                let canary = try await proplet.result(of: "canary")
                #expect(canary.state == .stopped)
                let times = proplet.samples(of: "canary").map(\.timestamp.microsecondsSinceEpoch).sorted()
                    .filter { $0 <= until }
                let gaps = zip(times.dropFirst(), times).map { Double($0 - $1) / 1e6 }
                let sampledSeconds = Double(until - (times.first ?? until)) / 1e6
                #expect(times.count >= 3, "canary samples \(times.count) over \(sampledSeconds) s")
                #expect(
                    Double(times.count) >= sampledSeconds - 1.5,
                    "canary samples \(times.count) over \(sampledSeconds) s"
                )
                #expect((gaps.max() ?? 99) < 2.5, "canary sample gaps \(gaps)")
                #expect(proplet.process.isRunning)
            }
        }
    }

    @Test("the registration's wasm_runtime names the runtime and its version", arguments: RuntimeUnderTest.allCases)
    func registration(runtime: RuntimeUnderTest) async throws {
        try await withMosquitto { broker in
            try await withProplet(broker: broker, environment: runtime.environment) { proplet in
                let registration = try #require(proplet.received(PropletRegistration.self, on: .propletCreate).first)
                switch runtime {
                case .wasmkit:
                    #expect(registration.metadata.wasmRuntime == "wasmkit 0.4.2")
                case .wasmtime:
                    #expect(registration.metadata.wasmRuntime == "wasmtime \(try await wasmtimeVersion())")
                }
            }
        }
    }

    @Test("PROPLET_TASK_MEMORY_BYTES is the default of a task without limits and the ceiling of one asking more")
    func defaultsAndCeilings() async throws {
        try await withMosquitto { broker in
            try await withProplet(broker: broker, environment: ["PROPLET_TASK_MEMORY_BYTES": "64MiB"]) { proplet in
                try await proplet.start("default", fixture: "bomb", name: "bomb")
                try await proplet.start(
                    "above",
                    fixture: "bomb",
                    name: "bomb",
                    limits: TaskLimits(memoryBytes: 1 << 30)
                )
                try await proplet.start(
                    "below",
                    fixture: "bomb",
                    name: "bomb",
                    limits: TaskLimits(memoryBytes: 40 << 20)
                )
                #expect(try await proplet.result(of: "default").error == "memory limit of 67108864 bytes exceeded")
                #expect(try await proplet.result(of: "above").error == "memory limit of 67108864 bytes exceeded")
                #expect(try await proplet.result(of: "below").error == "memory limit of 41943040 bytes exceeded")
            }
        }
    }

    @Test(
        "a configured runtime that is missing stops start-up naming the variable and the path",
        arguments: [
            (
                ["PROPLET_WASM_RUNTIME=wasmtime", "PROPLET_WASMTIME_PATH=/nonexistent/bin/wasmtime"],
                "PROPLET_WASMTIME_PATH", "/nonexistent/bin/wasmtime"
            ),
            (
                ["PROPLET_WASM_RUNTIME=wasmtime", "PROPLET_WASMTIME_PATH=no-such-wasmtime-cli"],
                "PROPLET_WASMTIME_PATH", "no-such-wasmtime-cli"
            ),
            (["PROPLET_RUNNER_PATH=/nonexistent/propeller-wasm"], "PROPLET_RUNNER_PATH", "/nonexistent/propeller-wasm"),
            (["PROPLET_WASM_RUNTIME=wasm3"], "PROPLET_WASM_RUNTIME", "wasm3"),
        ]
    )
    func missingRuntime(settings: [String], variable: String, value: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("proplet-rt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("proplet.log")
        let process = try await ProcessLauncher.launch(
            "/usr/bin/env",
            arguments: settings + [
                "PROPLET_STATE_DIR=\(directory.path)", "PROPELLER_MQTT_URL=mqtt://127.0.0.1:1",
                BinaryLocator.path(of: "propeller"), "proplet",
            ],
            output: .file(log.path)
        )
        let status = await process.waitForExit(timeout: .seconds(30))
        #expect(status != nil && status != 0)
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(output.contains(variable), "\(output)")
        #expect(output.contains(value), "\(output)")
    }

    @Test("a Wasmtime daemon left behind by a SIGKILLed proplet is ended by the next proplet on its state directory")
    func wasmtimeOrphans() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("proplet-orphan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: state) }
        let environment = RuntimeUnderTest.wasmtime.environment
        try await withMosquitto { broker in
            let orphan: Int32 = try await withProplet(broker: broker, environment: environment, stateDirectory: state) {
                proplet in
                try await proplet.start("daemon", fixture: "daemon", name: "_start", daemon: true)
                let deadline = ContinuousClock.now + .seconds(30)
                var task: Int32?
                while task == nil, ContinuousClock.now < deadline {
                    task = ProcessTable.children(of: proplet.pid).first {
                        ProcessTable.commandLine(of: $0).contains(" run --allow-precompiled")
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let pid = try #require(task)
                kill(proplet.pid, SIGKILL)
                try await Task.sleep(for: .milliseconds(500))
                return pid
            }
            let alive = { ProcessTable.state(of: orphan).map { $0 != "Z" } ?? false }
            #expect(alive(), "the Wasmtime process outlived its proplet")
            try await withProplet(broker: broker, environment: environment, stateDirectory: state) { _ in
                let deadline = ContinuousClock.now + .seconds(10)
                while alive(), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(!alive(), "the orphan is gone")
            }
        }
    }

    private func seconds(of result: TaskResult) throws -> Double {
        let started = try #require(result.startedAt)
        let finished = try #require(result.finishedAt)
        return Double(finished.microsecondsSinceEpoch - started.microsecondsSinceEpoch) / 1e6
    }

    /// `49.0.3` from `wasmtime --version`.
    private func wasmtimeVersion() async throws -> String {
        let text = try await ProcessLauncher.run(BinaryLocator.wasmtime, arguments: ["--version"]).standardOutput
        return String(try #require(text.split(separator: " ").dropFirst().first))
    }
}
