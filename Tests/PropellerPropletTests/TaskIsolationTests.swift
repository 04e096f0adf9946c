import Foundation
import PropellerCore
import PropellerLauncher
import PropellerMQTT
import PropellerTestSupport
import Testing

/// SPEC §7 "the task process": no inherited secrets, private files.
@Suite("A task process holds no secrets of its proplet; task and state files are private", .timeLimit(.minutes(3)))
struct TaskIsolationTests {
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
    }

    /// A real `propeller proplet` with a fixed id, its state directory and a probe of its topics.
    struct Proplet {
        let id: String
        let topics = Topics(domainID: "iso", channelID: "iso")
        let state: URL
        let process: LaunchedProcess
        let probe: MQTTProbe

        static func start(_ broker: MosquittoBroker, environment: [String: String]) async throws -> Proplet {
            let state = FileManager.default.temporaryDirectory.appendingPathComponent("iso-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
            let probe = try await MQTTProbe.start(url: broker.url, filter: "m/iso/c/iso/#")
            var settings = [
                "PROPELLER_MQTT_URL": broker.url, "PROPELLER_DOMAIN_ID": "iso", "PROPELLER_CHANNEL_ID": "iso",
                "PROPLET_STATE_DIR": state.path, "PROPLET_LIVELINESS_INTERVAL": "1",
            ]
            settings.merge(environment) { _, new in new }
            let id = "iso-\(UUID().uuidString.prefix(8).lowercased())"
            settings["PROPLET_ID"] = id
            let process = try await ProcessLauncher.launch(
                "/usr/bin/env",
                arguments: settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                    + [BinaryLocator.path(of: "propeller"), "proplet"],
                output: .file(state.appendingPathComponent("proplet.log").path)
            )
            let proplet = Proplet(id: id, state: state, process: process, probe: probe)
            let created = proplet.topic(.propletCreate)
            try await probe.waitUntil(timeout: .seconds(30), "the registration") { $0.contains { $0.topic == created } }
            return proplet
        }

        init(id: String, state: URL, process: LaunchedProcess, probe: MQTTProbe) {
            self.id = id
            self.state = state
            self.process = process
            self.probe = probe
        }

        /// The full topic of `kind` for this proplet, in either layout (shared or per-proplet `{id}`).
        func topic(_ kind: Topics.Kind) -> String {
            topics.base + kind.rawValue.replacingOccurrences(of: "{id}", with: id)
        }

        func startDaemon(_ taskID: String) async throws -> Int32 {
            let command = StartCommand(
                id: taskID,
                name: "_start",
                propletID: id,
                file: Data(try Fixtures.wasm("daemon")).base64EncodedString(),
                daemon: true,
                monitoringProfile: .automatic(daemon: true)
            )
            try await probe.client.publish(topic(.managerStart), json: command, qos: .atLeastOnce)
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                for child in ProcessTable.children(of: process.processIdentifier)
                where ProcessTable.commandLine(of: child).contains("/\(taskID)-") {
                    return child
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw ProcessTableError.notFound("the runner of \(taskID)")
        }

        func stop(_ taskID: String) async throws {
            try await probe.client.publish(
                topic(.managerStop),
                json: StopCommand(id: taskID, propletID: id),
                qos: .atLeastOnce
            )
            let results = topic(.propletResults)
            try await probe.waitUntil(timeout: .seconds(20), "the result of \(taskID)") { messages in
                messages.contains {
                    $0.topic == results && String(decoding: $0.payload, as: UTF8.self).contains(taskID)
                }
            }
        }

        func end() async {
            await process.terminate()
            await probe.stop()
            try? FileManager.default.removeItem(at: state)
        }
    }

    @Test("/proc/<runner>/environ holds no PROPELLER_MQTT_PASSWORD or any other proplet variable")
    func runnerEnvironment() async throws {
        let canary = "canary-\(UUID().uuidString)"
        try await withMosquitto { broker in
            let environment = [
                "PROPELLER_MQTT_USERNAME": "proplet-user",
                "PROPELLER_MQTT_PASSWORD": canary,
                "PROPLET_REGISTRY_USERNAME": "registry-user",
                "PROPLET_REGISTRY_PASSWORD": canary,
                "AWS_SECRET_ACCESS_KEY": canary,
            ]
            let proplet = try await Proplet.start(broker, environment: environment)
            do {
                let runner = try await proplet.startDaemon("t-env")
                let proplets = try Data(
                    contentsOf: URL(fileURLWithPath: "/proc/\(proplet.process.processIdentifier)/environ")
                )
                #expect(String(decoding: proplets, as: UTF8.self).contains(canary), "the proplet itself has the secret")
                let raw = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(runner)/environ"))
                let entries = String(decoding: raw, as: UTF8.self).split(separator: "\0").map(String.init)
                #expect(!entries.joined().contains(canary), "\(entries)")
                let keys = Set(entries.compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) })
                #expect(keys.isSubset(of: ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ"]), "\(keys)")
                #expect(!keys.contains { $0.hasPrefix("PROPELLER_") || $0.hasPrefix("PROPLET_") })
                try await proplet.stop("t-env")
            } catch {
                await proplet.end()
                throw error
            }
            await proplet.end()
        }
    }

    @Test("the state directory and task directory are 0700; identity, module and job files 0600")
    func fileModes() async throws {
        try await withMosquitto { broker in
            let proplet = try await Proplet.start(broker, environment: [:])
            do {
                let state = proplet.state.path
                #expect(try Self.mode(state) == 0o700, "an existing state directory is tightened")
                #expect(try Self.mode(state + "/identity.json") == 0o600)
                _ = try await proplet.startDaemon("t-files")
                let tasks = state + "/tasks"
                #expect(try Self.mode(tasks) == 0o700)
                let files = try FileManager.default.contentsOfDirectory(atPath: tasks).filter {
                    $0.hasPrefix("t-files-")
                }
                #expect(
                    files.contains { $0.hasSuffix(".wasm") } && files.contains { $0.hasSuffix(".job.json") },
                    "\(files)"
                )
                for file in files { #expect(try Self.mode(tasks + "/" + file) == 0o600, "\(file)") }
                for file in try FileManager.default.contentsOfDirectory(atPath: state) where !file.hasSuffix(".log") {
                    let path = state + "/" + file
                    var isDirectory: ObjCBool = false
                    _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
                    #expect(try Self.mode(path) == (isDirectory.boolValue ? 0o700 : 0o600), "\(file)")
                }
                try await proplet.stop("t-files")
            } catch {
                await proplet.end()
                throw error
            }
            await proplet.end()
        }
    }
}
