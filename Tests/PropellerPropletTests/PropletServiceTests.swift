import Foundation
import PropellerCore
import PropellerMQTT
import PropellerTestSupport
import Testing

@testable import PropellerProplet

@Suite("Proplet service on an in-memory bus with a fake runner")
struct PropletServiceTests {
    @Test("registers with its metadata and sends a heartbeat at once and every liveliness interval")
    func registersAndHeartbeats() async throws {
        let harness = try PropletHarness()
        try await harness.withService { _ in
            let registration = try #require(try harness.decoded(PropletRegistration.self, on: .propletCreate).first)
            #expect(registration.propletID == harness.identity.propletID)
            #expect(registration.name == "test")
            #expect(registration.metadata.cpuCount > 0)
            #expect(registration.metadata.totalMemoryBytes > 0)
            #expect(registration.metadata.os == "linux")
            try await harness.waitFor(1, on: .propletAlive)
            try await harness.clock.waitForSleepers(2)
            harness.clock.advance(by: .seconds(10))
            try await harness.waitFor(2, on: .propletAlive)
            let beats = try harness.decoded(PropletHeartbeat.self, on: .propletAlive)
            #expect(beats.allSatisfy { $0.status == .alive && $0.runningTasks == 0 })
        }
    }

    @Test("a task ends in exactly one result carrying the runner's outcome and final metrics")
    func completedTask() async throws {
        let harness = try PropletHarness()
        try await harness.withService { _ in
            try await harness.send(harness.start("t-ok", name: "ok"))
            let result = try await harness.result(of: "t-ok")
            #expect(result.state == .completed)
            #expect(result.results == "42")
            #expect(result.error == nil)
            #expect(result.propletID == harness.identity.propletID)
            let started = try #require(result.startedAt)
            let finished = try #require(result.finishedAt)
            #expect(started <= finished)
            let final = try #require(result.finalMetrics)
            #expect(final.aggregated.sampleCount == 1)
            let samples = try harness.decoded(TaskSample.self, on: .propletTaskMetrics)
            #expect(samples.map(\.timestamp) == [final.timestamp])
            #expect(try harness.decoded(TaskSample.self, on: .metricsProplet).map(\.timestamp) == [final.timestamp])
        }
        #expect(try harness.results().count == 1)
    }

    @Test("the runner's failure, a crash and a silent exit each become one failed result with a clear error")
    func failures() async throws {
        let harness = try PropletHarness()
        try await harness.withService { _ in
            try await harness.send(harness.start("t-fail", name: "fail"))
            try await harness.send(harness.start("t-crash", name: "crash"))
            try await harness.send(harness.start("t-silent", name: "silent"))
            let fail = try await harness.result(of: "t-fail")
            #expect(fail.state == .failed)
            #expect(fail.error == "boom")
            let crash = try await harness.result(of: "t-crash")
            #expect(crash.state == .failed)
            #expect(crash.error?.contains("SIGSEGV") == true)
            let silent = try await harness.result(of: "t-silent")
            #expect(silent.state == .failed)
            #expect(silent.exitCode == 3)
            #expect(silent.error?.contains("exited with status 3") == true)
            #expect(silent.error?.contains("something broke") == true)
        }
        #expect(try harness.results().count == 3)
    }

    @Test("an image_url that cannot be fetched, or a file that is not base64, fails with a message saying so")
    func unusableModules() async throws {
        let harness = try PropletHarness()
        try await harness.withService { _ in
            try await harness.send(harness.start("t-image", name: "ok", file: nil, imageURL: "127.0.0.1:1/img:1"))
            try await harness.send(harness.start("t-b64", name: "ok", file: "%%% not base64"))
            let image = try await harness.result(of: "t-image")
            #expect(image.state == .failed)
            #expect(image.error?.contains("127.0.0.1:1/img:1") == true, "\(image.error ?? "")")
            #expect(image.finalMetrics == nil)
            let b64 = try await harness.result(of: "t-b64")
            #expect(b64.state == .failed)
            #expect(b64.error?.contains("base64") == true)
        }
    }

    @Test("commands for another proplet are ignored; undecodable ones are dropped and counted; serving continues")
    func addressingAndBadCommands() async throws {
        let harness = try PropletHarness()
        try await harness.withService { service in
            var foreign = harness.start("t-foreign", name: "ok")
            foreign.propletID = "someone-else"
            try await harness.send(foreign)
            try await harness.sendRaw(.managerStart, "not json at all")
            try await harness.sendRaw(.managerStart, #"{"id": 5, "name": "ok"}"#)
            try await harness.sendRaw(.managerStop, #"{"id": "x"}"#)
            try await harness.send(harness.start("t-mine", name: "ok"))
            #expect(try await harness.result(of: "t-mine").state == .completed)
            #expect(service.droppedCommands == 3)
            #expect(try harness.results().map(\.taskID) == ["t-mine"])
        }
    }

    @Test("a duplicate start of a running task is ignored, and stop reports it stopped once with no zombie")
    func duplicateAndStop() async throws {
        let harness = try PropletHarness()
        try await harness.withService { service in
            let command = harness.start("t-sleep", name: "sleep")
            try await harness.send(command)
            try await harness.send(command)
            let pid = try await waitForPid(service, "t-sleep")
            #expect(pid != getpid())
            #expect(await service.supervisor.runningCount == 1)
            try await harness.send(StopCommand(id: "t-sleep", propletID: harness.identity.propletID))
            let result = try await harness.result(of: "t-sleep")
            #expect(result.state == .stopped)
            #expect(result.error == nil)
            #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)"))
            #expect(harness.readings.pids.contains(pid))
        }
        #expect(try harness.results().count == 1)
    }

    @Test("a runner that ignores SIGTERM is killed after the grace period and reported stopped")
    func escalatesToKill() async throws {
        let harness = try PropletHarness()
        try await harness.withService { service in
            try await harness.send(harness.start("t-stubborn", name: "ignore-term"))
            let pid = try await waitForPid(service, "t-stubborn")
            try await Task.sleep(for: .milliseconds(100))  // let the shell install its trap
            try await harness.send(StopCommand(id: "t-stubborn", propletID: harness.identity.propletID))
            let result = try await harness.result(of: "t-stubborn")
            #expect(result.state == .stopped)
            #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)"))
        }
    }

    @Test("graceful shutdown stops running tasks, reports them stopped and publishes an offline heartbeat")
    func gracefulShutdown() async throws {
        let harness = try PropletHarness()
        var pid: Int32 = 0
        try await harness.withService { service in
            try await harness.send(harness.start("t-long", name: "sleep", profile: .daemon, daemon: true))
            pid = try await waitForPid(service, "t-long")
        }
        let result = try #require(try harness.results().first)
        #expect(result.taskID == "t-long")
        #expect(result.state == .stopped)
        #expect(result.error?.contains("shut down") == true)
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)"))
        let last = try #require(try harness.decoded(PropletHeartbeat.self, on: .propletAlive).last)
        #expect(last.status == .offline)
    }

    @Test("a monitored task is sampled every profile interval on both metrics topics, with a growing aggregate")
    func periodicSamples() async throws {
        let harness = try PropletHarness()
        try await harness.withService { service in
            try await harness.send(harness.start("t-watch", name: "sleep"))
            _ = try await waitForPid(service, "t-watch")
            for expected in 1...2 {
                // heartbeat + proplet metrics + the task's monitor
                try await harness.clock.waitForSleepers(3)
                harness.clock.advance(by: .seconds(10))
                try await harness.waitFor(expected, on: .propletTaskMetrics)
                try await harness.waitFor(expected, on: .metricsProplet)
            }
            let samples = try harness.decoded(TaskSample.self, on: .propletTaskMetrics)
            #expect(samples.map { $0.aggregated?.sampleCount } == [1, 2])
            #expect(samples.allSatisfy { $0.taskID == "t-watch" && $0.metrics.threadCount == 2 })
            #expect(harness.messages(on: .metricsProplet).allSatisfy { $0.qos == .atMostOnce })
            #expect(harness.messages(on: .propletTaskMetrics).allSatisfy { $0.qos == .atLeastOnce })
            try await harness.send(StopCommand(id: "t-watch", propletID: harness.identity.propletID))
            let result = try await harness.result(of: "t-watch")
            let final = try #require(result.finalMetrics)
            #expect(final.aggregated.sampleCount == 3)
            let all = try harness.decoded(TaskSample.self, on: .propletTaskMetrics)
            #expect(all.count == 3)
            #expect(all.last?.timestamp == final.timestamp)
            #expect(all.last?.aggregated?.sampleCount == 3)
        }
    }

    @Test("minimal profile: nothing on the metrics topics; the final sample rides in the result")
    func minimalProfile() async throws {
        let harness = try PropletHarness()
        try await harness.withService { service in
            try await harness.send(harness.start("t-min", name: "sleep", profile: .minimal))
            _ = try await waitForPid(service, "t-min")
            try await harness.clock.waitForSleepers(3)
            harness.clock.advance(by: .seconds(60))
            try await Task.sleep(for: .milliseconds(50))
            try await harness.send(StopCommand(id: "t-min", propletID: harness.identity.propletID))
            let result = try await harness.result(of: "t-min")
            let final = try #require(result.finalMetrics)
            #expect(final.metrics.cpuPercent != nil)
            #expect(final.metrics.memoryBytes != nil)
            #expect(final.metrics.diskReadBytes == nil)
            #expect(final.metrics.threadCount == nil)
            #expect(final.metrics.fileDescriptorCount == nil)
            #expect(final.aggregated.sampleCount == 2)
            #expect(harness.messages(on: .propletTaskMetrics).isEmpty)
            #expect(harness.messages(on: .metricsProplet).isEmpty)
        }
    }

    @Test("proplet-level metrics are published every metrics interval with the running-task count")
    func propletMetrics() async throws {
        let harness = try PropletHarness()
        try await harness.withService { _ in
            try await harness.clock.waitForSleepers(2)
            harness.clock.advance(by: .seconds(10))
            try await harness.waitFor(1, on: .propletMetrics)
            let sample = try #require(try harness.decoded(PropletSample.self, on: .propletMetrics).first)
            #expect(sample.propletID == harness.identity.propletID)
            #expect(sample.host.memoryTotalBytes > 0)
            #expect(sample.runningTasks == 0)
            #expect(harness.readings.pids.first == getpid())
        }
    }

    @Test("with PROPLET_ENABLE_MONITORING=false only tasks with an explicitly chosen profile are monitored")
    func monitoringDisabled() async throws {
        let harness = try PropletHarness(monitoringEnabled: false)
        try await harness.withService { _ in
            try await harness.send(harness.start("t-auto", name: "ok"))
            try await harness.send(harness.start("t-chosen", name: "ok", profile: .intensive))
            var off = MonitoringProfile.intensive
            off.enabled = false
            try await harness.send(harness.start("t-off", name: "ok", profile: off))
            #expect(try await harness.result(of: "t-auto").finalMetrics == nil)
            #expect(try await harness.result(of: "t-chosen").finalMetrics != nil)
            #expect(try await harness.result(of: "t-off").finalMetrics == nil)
            try await harness.clock.waitForSleepers(1)
            harness.clock.advance(by: .seconds(10))
            try await harness.waitFor(2, on: .propletAlive)
            #expect(harness.messages(on: .propletMetrics).isEmpty)
        }
    }

    private func waitForPid(_ service: PropletService<ManualClock>, _ taskID: String) async throws -> Int32 {
        let limit = ContinuousClock.now.advanced(by: .seconds(20))
        while ContinuousClock.now < limit {
            if let pid = await service.supervisor.pid(of: taskID) { return pid }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TestTimeout(what: "the pid of \(taskID)")
    }
}
