import Foundation
import Testing

@testable import PropellerCore

@Suite("Monitoring profiles (SPEC §3)")
struct MonitoringProfileTests {
    /// SPEC §3's table, row by row: interval, cpu, memory, disk, threads, fds, export, history, size.
    static let table: [(String, Int, [Bool], Int)] = [
        ("standard", 10, [true, true, true, true, true, true, true], 100),
        ("minimal", 60, [true, true, false, false, false, false, false], 0),
        ("intensive", 1, [true, true, true, true, true, true, true], 1000),
        ("batch", 30, [true, true, true, false, false, true, true], 200),
        ("daemon", 120, [true, true, true, true, true, true, true], 500),
    ]

    @Test("the five built-ins match SPEC §3 value by value", arguments: table)
    func builtIns(name: String, interval: Int, flags: [Bool], historySize: Int) throws {
        let profile = try #require(MonitoringProfile.named(name))
        #expect(profile.enabled)
        #expect(profile.interval == interval)
        let actual = [
            profile.collectCPU, profile.collectMemory, profile.collectDiskIO, profile.collectThreads,
            profile.collectFileDescriptors, profile.exportToMQTT, profile.retainHistory,
        ]
        #expect(actual == flags)
        #expect(profile.historySize == historySize)
    }

    @Test("the full JSON form has exactly the SPEC keys and round-trips")
    func fullForm() throws {
        let text = try WireCoding.encodeString(MonitoringProfile.batch)
        let decoded = try WireCoding.decode(MonitoringProfile.self, from: Data(text.utf8))
        #expect(decoded == .batch)
        let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))
        #expect(
            Set(object.keys)
                == [
                    "enabled", "interval", "collect_cpu", "collect_memory", "collect_disk_io", "collect_threads",
                    "collect_file_descriptors", "export_to_mqtt", "retain_history", "history_size",
                ]
        )
    }

    @Test("automatic selection: daemon tasks get daemon, others standard")
    func automatic() throws {
        #expect(try MonitoringProfile.resolve(nil, daemon: false) == .standard)
        #expect(try MonitoringProfile.resolve(nil, daemon: true) == .daemon)
        #expect(try MonitoringProfile.resolve(.null, daemon: true) == .daemon)
    }

    @Test("a partial object overrides the automatic profile")
    func partial() throws {
        var expected = MonitoringProfile.standard
        expected.interval = 5
        #expect(try MonitoringProfile.resolve(.object(["interval": .integer(5)]), daemon: false) == expected)
        var daemonExpected = MonitoringProfile.daemon
        daemonExpected.collectThreads = false
        #expect(
            try MonitoringProfile.resolve(.object(["collect_threads": .bool(false)]), daemon: true) == daemonExpected
        )
    }

    @Test("a profile name resolves to that built-in")
    func byName() throws {
        #expect(try MonitoringProfile.resolve(.string("intensive"), daemon: false) == .intensive)
        #expect(try MonitoringProfile.resolve(.string("minimal"), daemon: true) == .minimal)
    }

    static let invalid: [(String, String)] = [
        (#"{"interval": 0}"#, "interval"),
        (#"{"interval": 121}"#, "interval"),
        (#"{"interval": 2.5}"#, "interval"),
        (#"{"interval": "10"}"#, "interval"),
        (#"{"history_size": -1}"#, "history_size"),
        (#"{"history_size": 10001}"#, "history_size"),
        (#"{"retain_history": true, "history_size": 0}"#, "history_size"),
        (#"{"intervall": 5}"#, "intervall"),
        (#"{"export_to_mqtt": "yes"}"#, "export_to_mqtt"),
        (#""turbo""#, "turbo"),
        ("42", "monitoring_profile"),
        ("[]", "monitoring_profile"),
    ]

    @Test("invalid profiles are rejected with a message naming the field", arguments: invalid)
    func rejected(json: String, field: String) throws {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        do {
            let profile = try MonitoringProfile.resolve(value, daemon: false)
            Issue.record("accepted \(json) as \(profile)")
        } catch {
            #expect(error.description.contains(field), "\(error.description) should name \(field)")
        }
    }

    @Test("range messages say what is accepted")
    func messages() throws {
        do {
            _ = try MonitoringProfile.resolve(.object(["interval": .integer(0)]), daemon: false)
        } catch {
            #expect(error.description == "monitoring_profile.interval must be an integer from 1 to 120, got 0")
        }
        do {
            _ = try MonitoringProfile.resolve(.string("turbo"), daemon: false)
        } catch {
            #expect(error.description.contains("standard, minimal, intensive, batch, daemon"))
        }
    }

    @Test("history off is allowed with size 0; a full object missing a key is rejected")
    func historyOff() throws {
        let profile = try MonitoringProfile.resolve(
            .object(["retain_history": .bool(false), "history_size": .integer(0)]),
            daemon: false
        )
        #expect(!profile.retainHistory)
        #expect(throws: ContractError.self) {
            try WireCoding.decode(MonitoringProfile.self, from: Data(#"{"interval": 5}"#.utf8))
        }
    }
}
