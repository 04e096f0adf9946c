import Foundation
import PropellerTestSupport
import Testing

/// SPEC §7 "the task process": no inherited secrets, private files.
@Suite("A task process holds no secrets of its proplet; task and state files are private", .timeLimit(.minutes(3)))
struct TaskIsolationTests {
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
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
            try await withProplet(broker: broker, environment: environment) { proplet in
                try await proplet.start("t-env", fixture: "daemon", name: "_start", daemon: true)
                let runner = try await proplet.runnerPid(of: "t-env")
                let proplets = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(proplet.pid)/environ"))
                #expect(String(decoding: proplets, as: UTF8.self).contains(canary), "the proplet itself has the secret")
                let raw = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(runner)/environ"))
                let entries = String(decoding: raw, as: UTF8.self).split(separator: "\0").map(String.init)
                #expect(!entries.joined().contains(canary), "\(entries)")
                let keys = Set(entries.compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) })
                #expect(keys.isSubset(of: ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ"]), "\(keys)")
                #expect(!keys.contains { $0.hasPrefix("PROPELLER_") || $0.hasPrefix("PROPLET_") })
                try await proplet.stop("t-env")
                _ = try await proplet.result(of: "t-env")
            }
        }
    }

    @Test("the state directory and task directory are 0700; identity, module and job files 0600")
    func fileModes() async throws {
        try await withMosquitto { broker in
            try await withProplet(broker: broker) { proplet in
                let state = proplet.stateDirectory.path
                #expect(try Self.mode(state) == 0o700, "an existing state directory is tightened")
                #expect(try Self.mode(state + "/identity.json") == 0o600)
                try await proplet.start("t-files", fixture: "daemon", name: "_start", daemon: true)
                _ = try await proplet.runnerPid(of: "t-files")
                let tasks = state + "/tasks"
                #expect(try Self.mode(tasks) == 0o700)
                let files = try FileManager.default.contentsOfDirectory(atPath: tasks).filter { $0.hasPrefix("t-files-") }
                #expect(files.contains { $0.hasSuffix(".wasm") } && files.contains { $0.hasSuffix(".job.json") }, "\(files)")
                for file in files { #expect(try Self.mode(tasks + "/" + file) == 0o600, "\(file)") }
                try await proplet.stop("t-files")
                _ = try await proplet.result(of: "t-files")
            }
        }
    }
}
