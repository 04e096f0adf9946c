import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

/// Issue 12: `propeller dev` runs its broker with authentication on (`propeller broker-config`'s files):
/// the manager and the proplet log in with their own identities, anonymous clients may only read
/// `metrics/#` — so the README's `mosquitto_sub` line still works — and cannot start code, read start
/// commands or register a proplet.
@Suite("propeller dev: the local broker runs with authentication on", .timeLimit(.minutes(4)))
struct DevAuthTests {
    @Test("broker-config's files; anonymous clients read metrics only: no start commands seen, no fake proplet")
    func authenticatedBroker() async throws {
        try await withDevStack(demo: true) { stack in
            let broker = stack.dataDir.appendingPathComponent("broker")
            let config = try String(contentsOf: broker.appendingPathComponent("mosquitto.conf"), encoding: .utf8)
            #expect(config.contains("password_file \(broker.path)/passwords"))
            #expect(config.contains("acl_file \(broker.path)/acl"))
            let passwords = try String(contentsOf: broker.appendingPathComponent("passwords"), encoding: .utf8)
            #expect(passwords.contains(":$7$") || passwords.contains(":$6$"), "hashed passwords")
            let mode = try FileManager.default.attributesOfItem(atPath: broker.path)[.posixPermissions] as? Int
            #expect(mode == 0o700)
            let propletID = try String(
                contentsOf: stack.dataDir.appendingPathComponent("dev-proplet-id"),
                encoding: .utf8
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(passwords.contains("\(propletID):") && passwords.contains("dev-manager:"))
            let (_, page) = try await stack.request("GET", "/proplets")
            #expect(try page.decoded(as: PropletPage.self).proplets.map(\.id) == [propletID])

            let port = String(stack.mqttPort)
            // Anonymous subscribers: the README's metrics line, and one on every control topic.
            async let metrics = runCommand(
                "/usr/bin/mosquitto_sub",
                ["-h", "127.0.0.1", "-p", port, "-t", "m/+/c/+/metrics/#", "-v", "-C", "2", "-W", "25"],
                timeout: .seconds(40)
            )
            async let control = runCommand(
                "/usr/bin/mosquitto_sub",
                ["-h", "127.0.0.1", "-p", port, "-t", "m/+/c/+/control/#", "-v", "-W", "10"],
                timeout: .seconds(40)
            )
            try await Task.sleep(for: .seconds(1))
            // A start command travels while the anonymous control subscriber listens.
            let module = Data(try Fixtures.wasm("add")).base64EncodedString()
            let (created, task) = try await stack.request(
                "POST",
                "/tasks",
                body: #"{"name":"add","file":"\#(module)","inputs":[1,2],"env":{"SECRET":"s3cr3t"}}"#
            )
            #expect(created == 201)
            let id = try task.decoded(as: WasmTask.self).id
            let (started, _) = try await stack.request("POST", "/tasks/\(id)/start", body: "{}")
            #expect(started == 200)
            // An anonymous registration, start command and forged result.
            let base = "m/default/c/default/"
            let registration = """
                {"proplet_id":"intruder","name":"intruder","metadata":{"hostname":"x","os":"linux","arch":"x86_64",\
                "cpu_count":1,"total_memory_bytes":1,"version":"0.1.0","wasm_runtime":"wasmkit"}}
                """
            let forged: [(String, String)] = [
                ("control/proplet/intruder/create", registration),
                (
                    "control/manager/\(propletID)/start",
                    #"{"id":"x","name":"add","proplet_id":"\#(propletID)","file":"\#(module)"}"#
                ),
                (
                    "control/proplet/\(propletID)/alive",
                    #"{"proplet_id":"\#(propletID)","status":"offline","running_tasks":0}"#
                ),
            ]
            for (topic, payload) in forged {
                _ = try await runCommand(
                    "/usr/bin/mosquitto_pub",
                    ["-h", "127.0.0.1", "-p", port, "-t", base + topic, "-m", payload],
                    timeout: .seconds(10)
                )
            }
            let (seenControl, seenMetrics) = try await (control, metrics)
            #expect(seenControl.stdout.isEmpty, "an anonymous client read control topics: \(seenControl.stdout)")
            #expect(!seenControl.stdout.contains("s3cr3t"))
            let samples = seenMetrics.stdout.split(separator: "\n").filter { $0.contains("\"task_id\"") }
            #expect(samples.count == 2, "mosquitto_sub (README) saw: \(seenMetrics.stdout)\(seenMetrics.stderr)")

            try await Task.sleep(for: .seconds(1))
            let (_, after) = try await stack.request("GET", "/proplets")
            let proplets = try after.decoded(as: PropletPage.self).proplets
            #expect(proplets.map(\.id) == [propletID], "no anonymous registration counts")
            #expect(proplets.first?.alive == true, "the forged offline will did not reach the manager")
            var outcome: TaskResults?
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                outcome = try await stack.request("GET", "/tasks/\(id)/results").1.decoded(as: TaskResults.self)
                if outcome?.state != .running { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(outcome?.state == .completed && outcome?.results == "3", "\(String(describing: outcome))")
        }
    }
}
