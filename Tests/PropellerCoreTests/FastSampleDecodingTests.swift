import Foundation
import PropellerTestSupport
import Testing

@testable import PropellerCore

/// The hand-written sample decoder (`TaskSample(fastJSON:)`) against the Codable one it stands in
/// front of: whenever it answers, it answers what `JSONDecoder` does; on the shapes proplets send it
/// answers (so the fast path is really taken).
@Suite("Task sample: the fast decoder agrees with the Codable decoder")
struct FastSampleDecodingTests {
    /// The Codable decoder alone (what `WireCoding.decode` runs when the fast path answers nil).
    private func codable(_ bytes: [UInt8]) -> TaskSample? {
        try? JSONDecoder().decode(TaskSample.self, from: Data(bytes))
    }

    private func randomSample(_ random: inout SeededGenerator) -> TaskSample {
        func maybe<T>(_ value: @autoclosure () -> T) -> T? { random.next() % 4 == 0 ? nil : value() }
        let metrics = ProcessMetrics(
            cpuPercent: maybe(Double(random.next() % 100_000) / 1000),
            memoryBytes: maybe(Int64(random.next() % (1 << 40))),
            memoryPercent: maybe(Double(random.next() % 10_000) / 100),
            diskReadBytes: maybe(Int64(random.next() % (1 << 50))),
            diskWriteBytes: maybe(Int64(random.next() % (1 << 50))),
            uptimeSeconds: maybe(Int64(random.next() % 1_000_000)),
            threadCount: maybe(Int64(random.next() % 500)),
            fileDescriptorCount: maybe(Int64(random.next() % 5000))
        )
        let aggregated = maybe(
            AggregatedMetrics(
                avgCPUUsage: Double(random.next() % 100_000) / 997,
                maxCPUUsage: Double(random.next() % 100_000) / 13,
                avgMemoryUsage: Double(random.next() % (1 << 40)) / 3,
                maxMemoryUsage: Int64(random.next() % (1 << 40)),
                totalDiskRead: Int64(random.next() % (1 << 40)),
                totalDiskWrite: Int64(random.next() % (1 << 40)),
                sampleCount: Int64(random.next() % 1000),
                p50CPUUsage: maybe(Double(random.next() % 1000) / 7)
            )
        )
        return TaskSample(
            taskID: "task-\(random.next() % 1000)",
            propletID: "proplet-\(random.next() % 1000)",
            metrics: metrics,
            aggregated: aggregated,
            timestamp: Timestamp(microsecondsSinceEpoch: 1_700_000_000_000_000 + Int64(random.next() % (1 << 40))),
            seq: maybe(random.next() % (1 << 62))
        )
    }

    @Test("the proplet's own encoding of random samples: the fast path answers, with the Codable value")
    func encodedSamples() throws {
        var random = SeededGenerator(seed: 1)
        for _ in 0..<2000 {
            let sample = randomSample(&random)
            let bytes = Array(try WireCoding.encode(sample))
            let fast = try #require(
                TaskSample(fastJSON: bytes),
                "fast path declined \(String(decoding: bytes, as: UTF8.self))"
            )
            #expect(fast == codable(bytes))
            #expect(fast == sample)
        }
    }

    @Test("SPEC §2's example, with whitespace, unknown keys and nulls: the fast path answers the Codable value")
    func specShapes() throws {
        let payloads = [
            #"{"task_id":"t","proplet_id":"p","metrics":{},"timestamp":"2025-01-15T10:35:22.123456Z"}"#,
            """
            {
              "task_id": "550e8400-e29b-41d4-a716-446655440001", "proplet_id": "7c9e6679",
              "metrics": { "cpu_percent": 23.5, "memory_bytes": 52428800, "memory_percent": 1.2e0,
                           "thread_count": null, "extra": [1, {"a": [true, false, null]}, "x"] },
              "aggregated": { "avg_cpu_usage": 38, "max_cpu_usage": 65.0, "avg_memory_usage": 62914560,
                              "max_memory_usage": 71303168, "total_disk_read": 2097152, "total_disk_write": 0,
                              "sample_count": 24, "p95_cpu_usage": null, "future": {} },
              "timestamp": "2025-01-15T10:35:22Z", "seq": 7, "note": "ignored"
            }
            """,
            #"{"task_id":"t","proplet_id":"p","metrics":{},"aggregated":null,"seq":null,"timestamp":"2025-01-15T10:35:22+00:00"}"#,
        ]
        for payload in payloads {
            let bytes = Array(payload.utf8)
            let fast = try #require(TaskSample(fastJSON: bytes), "fast path declined \(payload)")
            #expect(fast == codable(bytes))
        }
    }

    @Test("what the Codable decoder rejects the fast path declines, so the strict error is the one reported")
    func rejectedShapes() {
        let good = #"{"task_id":"t","proplet_id":"p","metrics":{"cpu_percent":1},"timestamp":"2025-01-15T10:35:22Z"}"#
        let bad = [
            good.replacing(#""cpu_percent":1"#, with: #""cpu_percent":-1"#),
            good.replacing(#""cpu_percent":1"#, with: #""memory_bytes":1.5"#),
            good.replacing(#""cpu_percent":1"#, with: #""memory_bytes":"1""#),
            good.replacing(#""cpu_percent":1"#, with: #""thread_count":99999999999999999999"#),
            good.replacing(#""cpu_percent":1"#, with: #""cpu_percent":01"#),
            good.replacing(#""cpu_percent":1"#, with: #""cpu_percent":1."#),
            good.replacing(#""task_id":"t""#, with: #""task_id":"a/b""#),
            good.replacing(#""task_id":"t""#, with: #""task_id":"""#),
            good.replacing(#""task_id":"t","#, with: ""),
            good.replacing("10:35:22Z", with: "10:35:22+02:00"),
            good.replacing("2025-01-15", with: "2025-02-30"),
            good.replacing("}", with: "},"),
            good + "x",
            good.replacing(#""metrics":{"cpu_percent":1}"#, with: #""metrics":null"#),
            good.replacing(#""metrics":{"cpu_percent":1}"#, with: #""metrics":{},"aggregated":{"avg_cpu_usage":1}"#),
            good.replacing(#""metrics":{"cpu_percent":1}"#, with: #""metrics":{},"seq":-3"#),
            "[]", "", "null",
        ]
        for payload in bad {
            let bytes = Array(payload.utf8)
            #expect(codable(bytes) == nil, "the Codable decoder accepts \(payload)")
            #expect(TaskSample(fastJSON: bytes) == nil, "the fast path accepts \(payload)")
        }
        // A repeated key is left to the Codable decoder (which keeps one of the values): declined here.
        let repeated = good.replacing(#""proplet_id":"p""#, with: #""proplet_id":"p","proplet_id":"q""#)
        #expect(TaskSample(fastJSON: Array(repeated.utf8)) == nil)
    }

    @Test("random mutations of valid payloads: whenever the fast path answers, the Codable decoder agrees")
    func mutatedPayloads() throws {
        var random = SeededGenerator(seed: 2)
        let alphabet = Array(#"{}[]:,"\ 0123456789.-+eEnulltrufas_xZT"#.utf8)
        var answered = 0
        for _ in 0..<3000 {
            var bytes = Array(try WireCoding.encode(randomSample(&random)))
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes[position] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: position)
                default: bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: position)
                }
            }
            guard let fast = TaskSample(fastJSON: bytes) else { continue }
            answered += 1
            #expect(fast == codable(bytes), "disagree on \(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(answered > 100, "too few mutated payloads decoded to compare (\(answered))")
    }

    @Test("WireCoding.decode takes the fast path and still names the field of a bad sample")
    func wireCodingUsesBoth() throws {
        let sample = TaskSample(
            taskID: "t",
            propletID: "p",
            metrics: ProcessMetrics(cpuPercent: 2),
            aggregated: nil,
            timestamp: Timestamp(microsecondsSinceEpoch: 1_736_937_322_000_000),
            seq: 4
        )
        #expect(try WireCoding.decode(TaskSample.self, from: Array(try WireCoding.encode(sample))) == sample)
        let bad = #"{"task_id":"t","proplet_id":"p","metrics":{"cpu_percent":-2},"timestamp":"2025-01-15T10:35:22Z"}"#
        do {
            _ = try WireCoding.decode(TaskSample.self, from: Array(bad.utf8))
            Issue.record("a negative cpu_percent was accepted")
        } catch {
            #expect(error.description.contains("cpu_percent"), "\(error)")
        }
    }
}
