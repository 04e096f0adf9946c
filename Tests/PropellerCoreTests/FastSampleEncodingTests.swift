import Foundation
import PropellerTestSupport
import Testing

@testable import PropellerCore

/// The hand-written encoders (`FastJSONEncodable`) against `JSONEncoder` with WireCoding's settings:
/// the same bytes for every value, including the awkward numbers and strings.
@Suite("Samples and metrics pages: the fast encoder writes JSONEncoder's bytes")
struct FastSampleEncodingTests {
    private func fast(_ value: some FastJSONEncodable) -> String {
        var writer = JSONWriter()
        value.writeJSON(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    private func codable(_ value: some Encodable) throws -> String {
        String(decoding: try WireCoding.encodeWithCodable(value), as: UTF8.self)
    }

    /// Doubles of every kind: integral, tiny, huge, subnormal, negative zero, not finite, and random
    /// bit patterns.
    private func number(_ random: inout SeededGenerator) -> Double {
        let awkward: [Double] = [
            0, -0.0, 1, 100, 0.1, 1e-5, 2.5e-7, 1e15, 1e16, 1e20, 1e21, 123_456_789_012.5, 33.333333333333336,
            .greatestFiniteMagnitude, .leastNonzeroMagnitude, .leastNormalMagnitude, .nan, .infinity, -.infinity,
            -12.5,
        ]
        switch random.next() % 4 {
        case 0: return awkward[Int(random.next() % UInt64(awkward.count))]
        case 1: return Double(random.next() % 1_000_000) / 1000
        case 2: return Double(random.next() % (1 << 53))
        default: return Double(bitPattern: random.next())
        }
    }

    private func text(_ random: inout SeededGenerator) -> String {
        let pieces = ["task", "-", "\"", "\\", "/", "\u{7F}", "é", "😀", "\u{2028}", "a b", "0"]
        var value = ""
        for _ in 0..<(random.next() % 6) {
            if random.next() % 3 == 0 {
                value.unicodeScalars.append(Unicode.Scalar(UInt8(random.next() % 0x20)))
            } else {
                value += pieces[Int(random.next() % UInt64(pieces.count))]
            }
        }
        return value
    }

    private func sample(_ random: inout SeededGenerator) -> TaskSample {
        func maybe<T>(_ value: @autoclosure () -> T) -> T? { random.next() % 3 == 0 ? nil : value() }
        func integer() -> Int64 { Int64(bitPattern: random.next()) >> Int64(random.next() % 64) }
        let metrics = ProcessMetrics(
            cpuPercent: maybe(number(&random)),
            memoryBytes: maybe(integer()),
            memoryPercent: maybe(number(&random)),
            diskReadBytes: maybe(integer()),
            diskWriteBytes: maybe(integer()),
            uptimeSeconds: maybe(integer()),
            threadCount: maybe(integer()),
            fileDescriptorCount: maybe(integer())
        )
        return TaskSample(
            taskID: text(&random),
            propletID: text(&random),
            metrics: metrics,
            aggregated: maybe(aggregated(&random)),
            timestamp: Timestamp(microsecondsSinceEpoch: Int64(random.next() % (1 << 51)) - (1 << 40)),
            seq: maybe(random.next() >> (random.next() % 64))
        )
    }

    private func aggregated(_ random: inout SeededGenerator) -> AggregatedMetrics {
        func maybe<T>(_ value: @autoclosure () -> T) -> T? { random.next() % 3 == 0 ? nil : value() }
        return AggregatedMetrics(
            avgCPUUsage: number(&random),
            maxCPUUsage: number(&random),
            avgMemoryUsage: number(&random),
            maxMemoryUsage: Int64(bitPattern: random.next()),
            totalDiskRead: Int64(random.next() % 1_000_000),
            totalDiskWrite: Int64(bitPattern: random.next()) >> 20,
            sampleCount: Int64(random.next() % 10),
            p50CPUUsage: maybe(number(&random)),
            p95CPUUsage: maybe(number(&random)),
            p95MemoryUsage: maybe(number(&random))
        )
    }

    @Test("5,000 random samples, awkward numbers and strings included: the same bytes")
    func samples() throws {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<5000 {
            let value = sample(&random)
            #expect(fast(value) == (try codable(value)))
        }
    }

    @Test("every control character, quotes, backslashes, slashes and non-ASCII text: escaped as JSONEncoder does")
    func strings() throws {
        let all = String(String.UnicodeScalarView((0..<0x80).compactMap { Unicode.Scalar(UInt8($0)) }))
        for text in [all, "", "\"\\/", "é😀\u{2028}\u{FEFF}", "\u{0}"] {
            let value = TaskSample(
                taskID: text,
                propletID: "p",
                metrics: ProcessMetrics(),
                aggregated: nil,
                timestamp: Timestamp(microsecondsSinceEpoch: 0)
            )
            #expect(fast(value) == (try codable(value)))
        }
    }

    @Test("metrics pages of 0 to 30 random samples, with and without an aggregate: the same bytes")
    func pages() throws {
        var random = SeededGenerator(seed: 11)
        for count in 0...30 {
            let page = TaskMetricsPage(
                taskID: text(&random),
                offset: Int(random.next() % 1000),
                limit: Int(random.next() % 1001),
                total: Int(bitPattern: UInt(random.next() >> 1)),
                metrics: (0..<count).map { _ in sample(&random) },
                aggregated: count % 2 == 0 ? nil : aggregated(&random)
            )
            #expect(fast(page) == (try codable(page)))
        }
    }

    @Test("WireCoding.encode takes the fast encoders, and what it writes decodes to the same value")
    func wireCodingUsesThem() throws {
        #expect(TaskSample.self is any FastJSONEncodable.Type)
        #expect(TaskMetricsPage.self is any FastJSONEncodable.Type)
        var random = SeededGenerator(seed: 3)
        for _ in 0..<200 {
            var value = sample(&random)
            value.taskID = "task-\(random.next() % 1000)"
            value.propletID = "proplet-1"
            value.metrics = value.metrics.finiteAndNonNegative
            value.aggregated = nil
            value.timestamp = Timestamp(
                microsecondsSinceEpoch: 1_700_000_000_000_000 + Int64(random.next() % (1 << 40))
            )
            value.seq = value.seq.map { $0 >> 1 }
            let bytes = try WireCoding.encode(value)
            #expect(String(decoding: bytes, as: UTF8.self) == fast(value))
            #expect(try WireCoding.decode(TaskSample.self, from: bytes) == value)
        }
    }
}

extension ProcessMetrics {
    /// The metrics with every value a receiver accepts (finite, non-negative), for round trips.
    fileprivate var finiteAndNonNegative: ProcessMetrics {
        func number(_ value: Double?) -> Double? { value.map { $0.isFinite ? abs($0) : 1 } }
        func integer(_ value: Int64?) -> Int64? { value.map { $0 == .min ? 0 : abs($0) } }
        return ProcessMetrics(
            cpuPercent: number(cpuPercent),
            memoryBytes: integer(memoryBytes),
            memoryPercent: number(memoryPercent),
            diskReadBytes: integer(diskReadBytes),
            diskWriteBytes: integer(diskWriteBytes),
            uptimeSeconds: integer(uptimeSeconds),
            threadCount: integer(threadCount),
            fileDescriptorCount: integer(fileDescriptorCount)
        )
    }
}
