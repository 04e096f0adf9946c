import Foundation
import Testing

@testable import PropellerCore

/// The JSON example of SPEC §2 ("Task-level sample"), verbatim.
private let specSample = """
    {
      "task_id": "550e8400-e29b-41d4-a716-446655440001",
      "proplet_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
      "metrics": {
        "cpu_percent": 23.5, "memory_bytes": 52428800, "memory_percent": 1.2,
        "disk_read_bytes": 1048576, "disk_write_bytes": 524288, "uptime_seconds": 45,
        "thread_count": 2, "file_descriptor_count": 8
      },
      "aggregated": {
        "avg_cpu_usage": 38.2, "max_cpu_usage": 65.0, "avg_memory_usage": 62914560,
        "max_memory_usage": 71303168, "total_disk_read": 2097152, "total_disk_write": 1048576,
        "sample_count": 24
      },
      "timestamp": "2025-01-15T10:35:22.123456Z"
    }
    """

/// Parses JSON into `JSONValue` so documents compare by keys and values, not by formatting.
private func json(_ text: String) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
}

private func json(_ data: Data) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: data)
}

/// Numbers compare by value: 65.0 and 65 are the same JSON number.
private func normalized(_ value: JSONValue) -> JSONValue {
    switch value {
    case .integer(let number): .number(Double(number))
    case .array(let items): .array(items.map(normalized))
    case .object(let fields): .object(fields.mapValues(normalized))
    default: value
    }
}

@Suite("Wire format (SPEC §2)")
struct WireFormatTests {
    @Test("the SPEC task-level sample decodes and re-encodes to the same keys and values")
    func specSampleRoundTrip() throws {
        let sample = try WireCoding.decode(TaskSample.self, from: Data(specSample.utf8))
        #expect(sample.metrics.cpuPercent == 23.5)
        #expect(sample.metrics.memoryBytes == 52_428_800)
        #expect(sample.aggregated?.sampleCount == 24)
        #expect(sample.timestamp.rfc3339 == "2025-01-15T10:35:22.123456Z")
        let reencoded = try WireCoding.encode(sample)
        #expect(normalized(try json(reencoded)) == normalized(try json(specSample)))
    }

    @Test("a sample without disk I/O has no disk_* keys, and no aggregated key without history")
    func omittedFields() throws {
        let full = ProcessMetrics(
            cpuPercent: 1,
            memoryBytes: 2,
            memoryPercent: 3,
            diskReadBytes: 4,
            diskWriteBytes: 5,
            uptimeSeconds: 6,
            threadCount: 7,
            fileDescriptorCount: 8
        )
        var profile = MonitoringProfile.standard
        profile.collectDiskIO = false
        let sample = TaskSample(
            taskID: "t",
            propletID: "p",
            metrics: full.filtered(by: profile),
            aggregated: nil,
            timestamp: Timestamp(microsecondsSinceEpoch: 0)
        )
        let text = try WireCoding.encodeString(sample)
        #expect(!text.contains("disk_"))
        #expect(!text.contains("aggregated"))
        #expect(text.contains("\"thread_count\":7"))
        let minimal = try WireCoding.encodeString(full.filtered(by: .minimal))
        #expect(try json(minimal) == json(#"{"cpu_percent":1,"memory_bytes":2,"memory_percent":3,"uptime_seconds":6}"#))
    }

    @Test("timestamps are RFC 3339 UTC strings with microseconds")
    func timestamps() throws {
        let stamp = try #require(Timestamp(rfc3339: "2025-01-15T10:35:22.123456Z"))
        #expect(stamp.microsecondsSinceEpoch == 1_736_937_322_123_456)
        #expect(stamp.rfc3339 == "2025-01-15T10:35:22.123456Z")
        #expect(Timestamp(rfc3339: "2025-01-15T12:35:22.5+02:00")?.rfc3339 == "2025-01-15T10:35:22.500000Z")
        #expect(Timestamp(rfc3339: "2025-01-15T10:35:22Z")?.rfc3339 == "2025-01-15T10:35:22.000000Z")
        #expect(Timestamp(rfc3339: "2025-01-15T10:35:22.1234567Z")?.rfc3339 == "2025-01-15T10:35:22.123456Z")
        for bad in [
            "2025-01-15", "1736937322", "2025-01-15T10:35:22", "2025-13-15T10:35:22Z", "", "2025-01-15T10:35:22.Z",
        ] {
            #expect(Timestamp(rfc3339: bad) == nil, "\(bad) must be rejected")
        }
        #expect(Timestamp(microsecondsSinceEpoch: -1).rfc3339 == "1969-12-31T23:59:59.999999Z")
        let now = Timestamp.now()
        #expect(Timestamp(rfc3339: now.rfc3339) == now)
    }

    @Test("a timestamp sent as a number is rejected with the field named")
    func numericTimestampRejected() {
        let payload = specSample.replacingOccurrences(of: "\"2025-01-15T10:35:22.123456Z\"", with: "1736937322")
        #expect(throws: ContractError.self) { try WireCoding.decode(TaskSample.self, from: Data(payload.utf8)) }
        do {
            _ = try WireCoding.decode(TaskSample.self, from: Data(payload.utf8))
        } catch {
            #expect(error.description.contains("timestamp"))
        }
    }

    @Test("wrong types, negative values and garbage are typed errors, never crashes")
    func strictDecoding() {
        let cases: [(String, String)] = [
            (specSample.replacingOccurrences(of: "52428800", with: "-5"), "memory_bytes"),
            (
                specSample.replacingOccurrences(of: "\"thread_count\": 2", with: "\"thread_count\": \"2\""),
                "thread_count"
            ),
            (
                specSample.replacingOccurrences(of: "\"task_id\": \"550e8400-e29b-41d4-a716-446655440001\",", with: ""),
                "task_id"
            ),
            ("not json at all", "JSON"),
            ("[1,2,3]", "object"),
            ("{}", "task_id"),
        ]
        for (payload, field) in cases {
            do {
                _ = try WireCoding.decode(TaskSample.self, from: Data(payload.utf8))
                Issue.record("decoded invalid payload: \(payload.prefix(60))")
            } catch {
                #expect(error.description.contains(field), "\(error.description) should name \(field)")
            }
        }
        #expect(throws: ContractError.self) { try WireCoding.decode(TaskSample.self, from: [0xFF, 0xFE, 0x00]) }
    }

    @Test("every control message keeps the exact SPEC keys through a round trip")
    func controlMessages() throws {
        let metadata = PropletMetadata(
            hostname: "edge-1",
            os: "linux",
            arch: "x86_64",
            cpuCount: 2,
            totalMemoryBytes: 1024,
            version: "0.1.0",
            wasmRuntime: "wasmkit"
        )
        let registration = PropletRegistration(propletID: "p1", name: "edge", metadata: metadata)
        try expectKeys(registration, ["proplet_id", "name", "metadata"])
        try expectKeys(
            metadata,
            ["hostname", "os", "arch", "cpu_count", "total_memory_bytes", "version", "wasm_runtime"]
        )
        let now = Timestamp.now()
        let heartbeat = PropletHeartbeat(propletID: "p1", status: .offline, runningTasks: 3, timestamp: now)
        try expectKeys(heartbeat, ["proplet_id", "status", "running_tasks", "timestamp"])
        #expect(try WireCoding.encodeString(heartbeat).contains("\"status\":\"offline\""))
        let start = StartCommand(id: "t1", name: "add", propletID: "p1", file: "AGFzbQ==", monitoringProfile: .batch)
        try expectKeys(
            start,
            ["id", "name", "proplet_id", "file", "inputs", "env", "cli_args", "daemon", "monitoring_profile", "limits"]
        )
        try expectKeys(StopCommand(id: "t1", propletID: "p1"), ["id", "proplet_id"])
        let result = TaskResult(taskID: "t1", propletID: "p1", state: .completed, results: "30")
        try expectKeys(
            result,
            [
                "task_id", "proplet_id", "state", "results", "error", "exit_code", "started_at", "finished_at",
                "final_metrics",
            ]
        )
        #expect(try WireCoding.encodeString(result).contains("\"final_metrics\":null"))
        let final = FinalMetrics(
            metrics: ProcessMetrics(cpuPercent: 5),
            aggregated: AggregatedMetrics(),
            timestamp: now
        )
        try expectKeys(final, ["metrics", "aggregated", "timestamp"])
        let host = HostMetrics(cpuPercent: 1, memoryTotalBytes: 2, memoryUsedBytes: 1, load1m: 0.5)
        try expectKeys(host, ["cpu_percent", "memory_total_bytes", "memory_used_bytes", "load_1m"])
        let proplet = PropletSample(
            propletID: "p1",
            timestamp: now,
            metrics: ProcessMetrics(cpuPercent: 1),
            host: host,
            runningTasks: 0
        )
        try expectKeys(proplet, ["proplet_id", "timestamp", "metrics", "host", "running_tasks"])
    }

    @Test("a results message with a running state is rejected")
    func resultStateMustBeFinal() {
        let payload = #"{"task_id":"t","proplet_id":"p","state":"running"}"#
        #expect(throws: ContractError.self) { try WireCoding.decode(TaskResult.self, from: Data(payload.utf8)) }
    }

    @Test("a start command resolves a partial or named profile and requires a module")
    func startCommandProfiles() throws {
        let named = #"{"id":"t","name":"add","proplet_id":"p","file":"AA==","monitoring_profile":"intensive"}"#
        #expect(try WireCoding.decode(StartCommand.self, from: Data(named.utf8)).monitoringProfile == .intensive)
        let daemon = #"{"id":"t","name":"_start","proplet_id":"p","file":"AA==","daemon":true}"#
        #expect(try WireCoding.decode(StartCommand.self, from: Data(daemon.utf8)).monitoringProfile == .daemon)
        let noModule = #"{"id":"t","name":"add","proplet_id":"p"}"#
        #expect(throws: ContractError.self) { try WireCoding.decode(StartCommand.self, from: Data(noModule.utf8)) }
    }

    private func expectKeys(_ value: some Encodable, _ keys: Set<String>) throws {
        let encoded = try json(try WireCoding.encode(value))
        guard case .object(let object) = encoded else {
            Issue.record("not an object")
            return
        }
        #expect(Set(object.keys) == keys)
    }
}
