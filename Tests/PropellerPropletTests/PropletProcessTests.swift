import Foundation
import PropellerCore
import PropellerMQTT
import PropellerTestSupport
import Testing

/// Issue 4's acceptance, each shown with a real Mosquitto broker, the real `propeller proplet` process
/// and real `propeller-wasm` runner children.
@Suite("Proplet process with a real broker and real runners", .serialized)
struct PropletProcessTests {
    @Test(
        "add(10, 20) completes with 30; a trap, a missing export, 3 inputs for 2 params and a garbage module fail saying which; serving continues"
    )
    func outcomes() async throws {
        try await withMosquitto { broker in
            try await withProplet(broker: broker) { proplet in
                try await proplet.start("t-add", fixture: "add", name: "add", inputs: [.integer(10), .integer(20)])
                try await proplet.start("t-trap", fixture: "trap", name: "trap")
                try await proplet.start(
                    "t-missing",
                    fixture: "add",
                    name: "subtract",
                    inputs: [.integer(1), .integer(2)]
                )
                try await proplet.start(
                    "t-count",
                    fixture: "add",
                    name: "add",
                    inputs: [.integer(1), .integer(2), .integer(3)]
                )
                try await proplet.start("t-garbage", module: Array("this is not wasm".utf8), name: "add")

                let add = try await proplet.result(of: "t-add")
                #expect(add.state == .completed)
                #expect(add.results == "30")
                let trap = try await proplet.result(of: "t-trap")
                #expect(trap.state == .failed)
                #expect(trap.error?.lowercased().contains("unreachable") == true)
                let missing = try await proplet.result(of: "t-missing")
                #expect(missing.state == .failed)
                #expect(missing.error?.contains("subtract") == true)
                let count = try await proplet.result(of: "t-count")
                #expect(count.state == .failed)
                #expect(count.error?.contains("3") == true)
                #expect(count.error?.contains("2") == true)
                let garbage = try await proplet.result(of: "t-garbage")
                #expect(garbage.state == .failed)
                #expect(garbage.error?.isEmpty == false)

                try await proplet.start("t-again", fixture: "add", name: "add", inputs: [.integer(-5), .integer(7)])
                #expect(try await proplet.result(of: "t-again").results == "2")
                #expect(proplet.process.isRunning)
                let results = proplet.received(TaskResult.self, on: .propletResults)
                #expect(results.count == 6)
            }
        }
    }

    @Test("a CPU burner and an idle daemon at once: ≥ 50 % vs ≤ 5 % CPU, each sampled in its own process")
    func burnerAndIdleDaemon() async throws {
        try await withMosquitto { broker in
            try await withProplet(broker: broker) { proplet in try await checkBurnerAndIdle(proplet) }
        }
    }

    private func checkBurnerAndIdle(_ proplet: PropletProcess) async throws {
        try await proplet.start("t-burn", fixture: "burn", name: "burn", inputs: [.integer(6000)], profile: .intensive)
        try await proplet.start("t-idle", fixture: "daemon", name: "_start", daemon: true, profile: .intensive)
        let burnerPid = try await proplet.runnerPid(of: "t-burn")
        let idlePid = try await proplet.runnerPid(of: "t-idle")
        #expect(burnerPid != proplet.pid)
        #expect(idlePid != proplet.pid)
        #expect(burnerPid != idlePid)
        try await proplet.probe.waitUntil(timeout: .seconds(30), "3 samples of each task") { _ in
            proplet.samples(of: "t-burn").count >= 3 && proplet.samples(of: "t-idle").count >= 3
        }
        let idleRSS: Int64 = try #require(ProcessTable.residentBytes(of: idlePid))
        let propletRSS: Int64 = try #require(ProcessTable.residentBytes(of: proplet.pid))
        let burnerCPU: [Double] = proplet.samples(of: "t-burn").dropFirst().map { $0.metrics.cpuPercent ?? 0 }
        let idleCPU: [Double] = proplet.samples(of: "t-idle").dropFirst().map { $0.metrics.cpuPercent ?? 100 }
        // Medians: a shared, busy test machine may steal the burner's core for a moment.
        #expect(median(burnerCPU) >= 50, "burner CPU% \(burnerCPU)")
        #expect(median(idleCPU) <= 5, "idle CPU% \(idleCPU)")
        #expect(idleCPU.allSatisfy { $0 <= 20 }, "idle CPU% \(idleCPU)")
        // The idle daemon's samples describe its own process, not the proplet's.
        let sampledRSS: Int64 = try #require(proplet.samples(of: "t-idle").last?.metrics.memoryBytes)
        let offByIdle = abs(Double(sampledRSS) - Double(idleRSS))
        let offByProplet = abs(Double(sampledRSS) - Double(propletRSS))
        #expect(offByIdle < Double(idleRSS) * 0.2, "sampled \(sampledRSS) vs runner \(idleRSS)")
        #expect(offByProplet > Double(1 << 20), "sampled \(sampledRSS) vs proplet \(propletRSS)")
        try await proplet.stop("t-idle")
        try await proplet.stop("t-burn")
        _ = try await proplet.result(of: "t-idle")
        _ = try await proplet.result(of: "t-burn")
    }

    @Test(
        "an intensive 3.5 s task: ≥ 3 samples on m/+/c/+/metrics/# about 1 s apart, then a final one; sample_count grows by 1"
    )
    func intensiveTimeline() async throws {
        try await withMosquitto { broker in
            let metrics = try await MQTTProbe.start(url: broker.url, filter: Topics.allMetricsFilter)
            defer { Task { await metrics.stop() } }
            try await withProplet(broker: broker) { proplet in
                try await proplet.start(
                    "t-35",
                    fixture: "burn",
                    name: "burn",
                    inputs: [.integer(3500)],
                    profile: .intensive
                )
                let result = try await proplet.result(of: "t-35")
                #expect(result.state == .completed)
                let final = try #require(result.finalMetrics)
                let received = try await metrics.waitUntil(timeout: .seconds(10), "the final sample") { messages in
                    messages.contains {
                        (try? WireCoding.decode(TaskSample.self, from: $0.payload))?.timestamp == final.timestamp
                    }
                }
                let samples = received.compactMap { try? WireCoding.decode(TaskSample.self, from: $0.payload) }
                    .filter { $0.taskID == "t-35" }
                #expect(samples.count >= 4, "≥ 3 periodic samples and the final one")
                #expect(samples.last?.timestamp == final.timestamp)
                #expect(samples.map { $0.aggregated?.sampleCount ?? 0 } == (1...Int64(samples.count)).map { $0 })
                let periodic = samples.dropLast()
                for (earlier, later) in zip(periodic, periodic.dropFirst()) {
                    let gap = later.timestamp.secondsSinceEpoch - earlier.timestamp.secondsSinceEpoch
                    #expect(gap > 0.7 && gap < 1.3, "gap \(gap) s")
                }
                #expect(final.aggregated.sampleCount == Int64(samples.count))
            }
        }
    }

    @Test("the memory module's memory_bytes reflects the MiB it holds, within 15 %")
    func memoryHeld() async throws {
        try await withMosquitto { broker in
            try await withProplet(broker: broker) { proplet in
                try await proplet.start(
                    "t-small",
                    fixture: "memory",
                    name: "hold",
                    inputs: [.integer(1), .integer(-1)],
                    profile: .intensive
                )
                try await proplet.start(
                    "t-big",
                    fixture: "memory",
                    name: "hold",
                    inputs: [.integer(200), .integer(-1)],
                    profile: .intensive
                )
                try await proplet.probe.waitUntil(timeout: .seconds(30), "3 samples of each task") { _ in
                    proplet.samples(of: "t-small").count >= 3 && proplet.samples(of: "t-big").count >= 3
                }
                let small = try #require(proplet.samples(of: "t-small").last?.metrics.memoryBytes)
                let big = try #require(proplet.samples(of: "t-big").last?.metrics.memoryBytes)
                let held = Double(big - small)
                let expected = Double(199 << 20)
                #expect(abs(held - expected) <= expected * 0.15, "held \(held / 1_048_576) MiB, expected 199 MiB")
                try await proplet.stop("t-small")
                try await proplet.stop("t-big")
                #expect(try await proplet.result(of: "t-big").state == .stopped)
            }
        }
    }

    @Test(
        "a 200 ms CPU-bound task under standard has all 8 metrics in its final sample, read from the live process",
        arguments: RuntimeUnderTest.allCases
    )
    func shortTask(runtime: RuntimeUnderTest) async throws {
        try await withMosquitto { broker in
            try await withProplet(broker: broker, environment: runtime.environment) { proplet in
                try await proplet.start(
                    "t-short",
                    fixture: "burn",
                    name: "burn",
                    inputs: [.integer(200)],
                    profile: .standard
                )
                let result = try await proplet.result(of: "t-short")
                #expect(result.state == .completed)
                let final = try #require(result.finalMetrics)
                #expect((final.metrics.cpuPercent ?? 0) > 0)
                #expect((final.metrics.memoryBytes ?? 0) > 0)
                #expect(final.metrics.uptimeSeconds == 0)
                #expect(final.aggregated.sampleCount == 1)
                // Threads and fds come from the live process: the runner after its work ended (the
                // final-sample handshake), or Wasmtime's early readings (`TaskMonitor.probe`).
                #expect((final.metrics.threadCount ?? 0) >= 1, "thread_count missing: \(final.metrics)")
                #expect(
                    (final.metrics.fileDescriptorCount ?? 0) >= 3,
                    "file_descriptor_count missing: \(final.metrics)"
                )
                #expect(final.metrics.memoryPercent != nil)
                #expect(final.metrics.diskReadBytes != nil && final.metrics.diskWriteBytes != nil)
                let raw = try proplet.rawResult(of: "t-short")
                let keys = Set(
                    try #require((raw["final_metrics"] as? [String: Any])?["metrics"] as? [String: Any]).keys
                )
                #expect(
                    keys == [
                        "cpu_percent", "memory_bytes", "memory_percent", "disk_read_bytes", "disk_write_bytes",
                        "uptime_seconds", "thread_count", "file_descriptor_count",
                    ]
                )
                try await proplet.probe.waitUntil(timeout: .seconds(10), "the final sample on task_metrics") { _ in
                    proplet.samples(of: "t-short").contains { $0.timestamp == final.timestamp }
                }
            }
        }
    }

    @Test("minimal profile: nothing on the metrics topics, disk/thread/fd omitted, final sample in the result")
    func minimalProfile() async throws {
        try await withMosquitto { broker in
            let metrics = try await MQTTProbe.start(url: broker.url, filter: Topics.allMetricsFilter)
            defer { Task { await metrics.stop() } }
            try await withProplet(broker: broker) { proplet in
                var profile = MonitoringProfile.minimal
                profile.interval = 1
                try await proplet.start(
                    "t-min",
                    fixture: "burn",
                    name: "burn",
                    inputs: [.integer(2500)],
                    profile: profile
                )
                let result = try await proplet.result(of: "t-min")
                #expect(result.finalMetrics != nil)
                let raw = try proplet.rawResult(of: "t-min")
                let final = try #require(raw["final_metrics"] as? [String: Any])
                let keys = Set(try #require(final["metrics"] as? [String: Any]).keys)
                #expect(keys.isSuperset(of: ["cpu_percent", "memory_bytes", "memory_percent", "uptime_seconds"]))
                #expect(
                    keys.isDisjoint(with: [
                        "disk_read_bytes", "disk_write_bytes", "thread_count", "file_descriptor_count",
                    ])
                )
                #expect((final["aggregated"] as? [String: Any])?["sample_count"] as? Int ?? 0 >= 2)
                try await Task.sleep(for: .milliseconds(300))
                #expect(metrics.messages.isEmpty)
                #expect(proplet.samples(of: "t-min").isEmpty)
            }
        }
    }

    @Test("stop of a running daemon reports stopped within 2 s and leaves no process or zombie behind")
    func stopDaemon() async throws {
        try await withMosquitto { broker in
            try await withProplet(broker: broker) { proplet in
                try await proplet.start("t-daemon", fixture: "daemon", name: "_start", daemon: true)
                let runner = try await proplet.runnerPid(of: "t-daemon")
                try await proplet.probe.waitUntil(timeout: .seconds(10), "a heartbeat counting the task") { _ in
                    proplet.received(PropletHeartbeat.self, on: .propletAlive).contains { $0.runningTasks == 1 }
                }
                let stopAt = ContinuousClock.now
                try await proplet.stop("t-daemon")
                let result = try await proplet.result(of: "t-daemon")
                let elapsed = ContinuousClock.now - stopAt
                #expect(result.state == .stopped)
                #expect(elapsed < .seconds(2), "stopped after \(elapsed)")
                #expect(ProcessTable.state(of: runner) == nil, "runner \(runner) still exists")
                #expect(ProcessTable.children(of: proplet.pid).isEmpty)
            }
        }
    }

    @Test("SIGKILL of the proplet delivers its last will (offline) to a subscriber, even with a task running")
    func lastWill() async throws {
        try await withMosquitto { broker in
            try await withProplet(broker: broker) { proplet in
                try await proplet.start("t-orphan", fixture: "daemon", name: "_start", daemon: true)
                let runner = try await proplet.runnerPid(of: "t-orphan")
                defer { kill(runner, SIGKILL) }
                proplet.process.send(SIGKILL)
                let messages = try await proplet.probe.waitUntil(timeout: .seconds(15), "the offline last will") { _ in
                    proplet.received(PropletHeartbeat.self, on: .propletAlive).contains { $0.status == .offline }
                }
                #expect(!messages.isEmpty)
                let will = try #require(
                    proplet.received(PropletHeartbeat.self, on: .propletAlive).first { $0.status == .offline }
                )
                #expect(will.propletID == proplet.propletID)
            }
        }
    }

    @Test("the proplet keeps its generated id across restarts and publishes proplet-level metrics")
    func stableIdentityAndPropletMetrics() async throws {
        try await withMosquitto { broker in
            let state = FileManager.default.temporaryDirectory.appendingPathComponent("proplet-it-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: state) }
            let environment = ["PROPELLER_DOMAIN_ID": "stable", "PROPELLER_CHANNEL_ID": "stable"]
            let first = try await withProplet(broker: broker, environment: environment, stateDirectory: state) {
                proplet in
                try await proplet.probe.waitUntil(timeout: .seconds(15), "proplet metrics") { _ in
                    !proplet.received(PropletSample.self, on: .propletMetrics).isEmpty
                }
                let sample = try #require(proplet.received(PropletSample.self, on: .propletMetrics).first)
                #expect(sample.propletID == proplet.propletID)
                #expect((sample.metrics.memoryBytes ?? 0) > 0)
                #expect(sample.host.memoryTotalBytes > 0)
                return proplet.propletID
            }
            let second = try await withProplet(broker: broker, environment: environment, stateDirectory: state) {
                $0.propletID
            }
            #expect(first == second)
            #expect(UUID(uuidString: first) != nil)
        }
    }

    @Test("a configuration value that does not parse stops startup with a message naming the variable")
    func badConfiguration() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("proplet-bad-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let process = try SpawnedProcess(
            "/usr/bin/env",
            arguments: ["PROPLET_METRICS_INTERVAL=fast", BinaryLocator.path(of: "propeller"), "proplet"],
            outputFile: log.path
        )
        let status = await process.waitForExit(timeout: .seconds(30))
        #expect(status != nil && status != 0)
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(output.contains("PROPLET_METRICS_INTERVAL"))
        #expect(output.contains("fast"))
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
