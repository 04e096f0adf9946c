import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SPEC §2 "Delivery" and §4 truthful states, against a real Mosquitto (without persistence) and real
/// `propeller manager` / `propeller proplet` processes.
@Suite("Delivery and truthful states under faults", .timeLimit(.minutes(10)))
struct DeliveryTests {
    struct Outage: Sendable, CustomTestStringConvertible {
        var signal: Int32
        var seconds: Int
        var testDescription: String { "\(signal == SIGKILL ? "SIGKILL" : "SIGTERM"), \(seconds) s" }
    }

    @Test(
        "a broker restart without persistence loses no sample; the task stays running and stoppable",
        arguments: [
            Outage(signal: SIGTERM, seconds: 3), Outage(signal: SIGKILL, seconds: 3),
            Outage(signal: SIGTERM, seconds: 10), Outage(signal: SIGKILL, seconds: 10),
        ]
    )
    func brokerRestart(outage: Outage) async throws {
        try await withMosquitto { broker in
            let stack = try DeliveryStack(broker: broker, timeout: 30)
            try stack.startManager()
            try stack.startProplet()
            _ = try await stack.registeredProplet()
            let id = try await stack.startDemoDaemon()
            try await stack.eventually("3 samples of the daemon", within: 20) {
                try await stack.sampleTimes(of: id).count >= 3
            }
            await broker.stop(signal: outage.signal)
            let downUntil = ContinuousClock.now + .seconds(outage.seconds)
            while ContinuousClock.now < downUntil {
                let (state, error) = try await stack.state(of: id)
                #expect(state == "running", "during the outage: \(state ?? "?") \(error ?? "")")
                try await Task.sleep(for: .milliseconds(500))
            }
            try await broker.start()
            let restartedAt = Timestamp.now()
            try await stack.eventually("samples after the restart", within: 30) {
                (try await stack.sampleTimes(of: id).last ?? .now().adding(seconds: -100))
                    > restartedAt.adding(seconds: 3)
            }
            // Journaled samples of the outage arrive within the ack timeout plus a resend.
            try await Task.sleep(for: .seconds(4))
            let times = try await stack.sampleTimes(of: id)
            let gap = DeliveryStack.largestGap(times)
            #expect(gap < 1.8, "a second of the task's life has no sample (largest gap \(gap) s)\n\(stack.logs)")
            #expect(try await stack.state(of: id).0 == "running")
            let (stopped, _) = try await stack.request("POST", "/tasks/\(id)/stop", body: "{}")
            #expect(stopped == 200)
            try await stack.eventually("the daemon stopped", within: 20) {
                try await stack.state(of: id).0 == "stopped"
            }
            await stack.stopAll()
        }
    }

    @Test("a proplet SIGKILLed and restarted with its state dir delivers what it journaled; lost tasks fail")
    func propletRestart() async throws {
        try await withMosquitto { broker in
            let stack = try DeliveryStack(broker: broker, timeout: 30)
            try stack.startManager()
            try stack.startProplet()
            _ = try await stack.registeredProplet()
            let id = try await stack.startDemoDaemon()
            try await stack.eventually("2 samples", within: 20) { try await stack.sampleTimes(of: id).count >= 2 }
            // With the manager gone nothing is acknowledged: the samples stay in the proplet's journal.
            await stack.manager?.terminate(SIGKILL)
            try await Task.sleep(for: .seconds(4))
            let killedAt = Timestamp.now()
            await stack.proplet?.terminate(SIGKILL)
            try stack.startManager()
            try stack.startProplet()
            try await stack.eventually("the journaled samples up to the kill", within: 30) {
                let times = try await stack.sampleTimes(of: id)
                return (times.last ?? .now().adding(seconds: -100)) >= killedAt.adding(seconds: -1.5)
                    && DeliveryStack.largestGap(times) < 1.8
            }
            try await stack.eventually("the task it no longer runs failed with a clear error", within: 30) {
                try await stack.state(of: id) == ("failed", "lost when the proplet restarted")
            }
            await stack.stopAll()
        }
    }

    @Test("SIGSTOP below the timeout fails nothing; above it tasks fail, come back running, and stop")
    func frozenProplet() async throws {
        try await withMosquitto { broker in
            let stack = try DeliveryStack(broker: broker, timeout: 5)
            try stack.startManager()
            try stack.startProplet()
            _ = try await stack.registeredProplet()
            let id = try await stack.startDemoDaemon()
            let pid = try #require(stack.proplet?.pid)
            kill(pid, SIGSTOP)
            try await Task.sleep(for: .seconds(2))
            kill(pid, SIGCONT)
            try await Task.sleep(for: .seconds(2))
            #expect(try await stack.state(of: id).0 == "running", "2 heartbeat intervals frozen fail nothing")

            kill(pid, SIGSTOP)
            try await stack.eventually("the task failed as proplet lost", within: 15) {
                try await stack.state(of: id) == ("failed", "proplet lost")
            }
            kill(pid, SIGCONT)
            try await stack.eventually("the task running again", within: 10) {
                try await stack.state(of: id).0 == "running"
            }
            let (stopped, _) = try await stack.request("POST", "/tasks/\(id)/stop", body: "{}")
            #expect(stopped == 200)
            try await stack.eventually("the daemon stopped", within: 20) {
                try await stack.state(of: id).0 == "stopped"
            }
            await stack.stopAll()
        }
    }

    @Test(
        "whatever order broker, manager and proplet start in, the proplet is listed with its metadata at once",
        arguments: [
            "broker manager proplet", "broker proplet manager", "manager broker proplet", "manager proplet broker",
            "proplet broker manager", "proplet manager broker",
        ]
    )
    func startOrder(order: String) async throws {
        try await withMosquitto { broker in
            await broker.stop()
            let stack = try DeliveryStack(broker: broker, timeout: 30)
            var lastStarted = ContinuousClock.now
            for part in order.split(separator: " ") {
                switch part {
                case "broker": try await broker.start()
                case "manager": try stack.startManager()
                default: try stack.startProplet()
                }
                lastStarted = .now
                try await Task.sleep(for: .seconds(1))
            }
            // Everything is up once the manager answers; then one heartbeat interval (1 s) plus slack.
            try await stack.eventually("the manager's API", within: 20) {
                try await stack.request("GET", "/health").0 == 200
            }
            _ = lastStarted
            let proplet = try await stack.registeredProplet(within: 4)
            #expect(proplet["name"]?.stringValue?.hasPrefix("proplet-") == true)
            _ = try await stack.startDemoDaemon(profile: "minimal")
            await stack.stopAll()
        }
    }
}
