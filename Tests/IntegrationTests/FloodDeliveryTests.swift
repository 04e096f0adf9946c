import Foundation
import Logging
import PropellerCore
import PropellerMQTT
import PropellerTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A publisher speaking the delivery protocol of SPEC §2: numbered samples, kept until acknowledged,
/// sent again on every hello and when the acknowledgement is overdue.
final class ProtocolPublisher: Sendable {
    let id = "flood-\(UUID().uuidString.prefix(8).lowercased())"
    let topics: Topics
    let client: MQTTClient
    let acked = Mutex<UInt64>(0)
    let hellos = Mutex<Int>(0)

    init(brokerURL: String, topics: Topics) throws {
        self.topics = topics
        var logger = Logger(label: "test.flood")
        logger.logLevel = .warning
        var configuration = MQTTConfiguration(url: brokerURL, clientID: "test-\(UUID().uuidString.prefix(8))")
        configuration.inflightWindow = 200
        client = try MQTTClient(configuration: configuration, logger: logger)
    }

    func register() async throws {
        let metadata = PropletMetadata(
            hostname: "flood",
            os: "linux",
            arch: "x86_64",
            cpuCount: 2,
            totalMemoryBytes: 1 << 30,
            version: PropellerVersion.current,
            wasmRuntime: "none"
        )
        try await client.publish(
            topics.topic(.propletCreate, propletID: id),
            json: PropletRegistration(propletID: id, name: "flood", metadata: metadata),
            qos: .atLeastOnce
        )
    }

    /// Listens for acks and hellos (re-registering on each hello).
    func listen() async throws -> (acks: AsyncStream<PubSubMessage>, hellos: AsyncStream<PubSubMessage>) {
        let acks = try await client.subscribe(topics.topic(.managerAck, propletID: id), qos: .atLeastOnce)
        let hellos = try await client.subscribe(topics.topic(.managerHello), qos: .atLeastOnce)
        return (acks, hellos)
    }

    func publish(_ samples: ArraySlice<TaskSample>) async throws {
        for sample in samples {
            try await client.publish(topics.topic(.propletTaskMetrics), json: sample, qos: .atLeastOnce)
        }
    }
}

@Suite("Acknowledged delivery through a manager crash", .timeLimit(.minutes(5)))
struct FloodDeliveryTests {
    @Test("manager SIGKILLed during a flood of 20,000 samples: after its restart none is lost, none stored twice")
    func managerCrashDuringFlood() async throws {
        try await withMosquitto { broker in
            let stack = try DeliveryStack(broker: broker, timeout: 60)
            try stack.startManager()
            try await stack.eventually("the manager", within: 30) { try await stack.request("GET", "/health").0 == 200 }
            let publisher = try ProtocolPublisher(
                brokerURL: broker.url,
                topics: Topics(domainID: "dlv", channelID: "c1")
            )
            try await publisher.client.connect()
            let (acks, hellos) = try await publisher.listen()
            try await publisher.register()
            try await stack.eventually("the flood proplet registered", within: 20) {
                // Registered again until listed: the manager may answer /health before it has subscribed.
                try await publisher.register()
                let (status, proplet) = try await stack.request("GET", "/proplets/\(publisher.id)")
                return status == 200 && proplet["metadata"]?["cpu_count"] != nil
            }
            let (created, task) = try await stack.request(
                "POST",
                "/tasks",
                body: #"{"name":"add","daemon":true,"file":"AGFzbQEAAAA="}"#
            )
            #expect(created == 201)
            let id = try #require(task["id"]?.stringValue)
            let (started, startedTask) = try await stack.request(
                "POST",
                "/tasks/\(id)/start",
                body: #"{"proplet_id":"\#(publisher.id)"}"#
            )
            #expect(started == 200)
            let startedAt = try #require(startedTask["started_at"]?.stringValue.flatMap { Timestamp(rfc3339: $0) })
            let count = 20_000
            var samples: [TaskSample] = []
            for index in 0..<count {
                let offset: Double = -4.0 + Double(index) * 0.0002
                let metrics = ProcessMetrics(cpuPercent: Double(index % 100), memoryBytes: 1_048_576)
                samples.append(
                    TaskSample(
                        taskID: id,
                        propletID: publisher.id,
                        metrics: metrics,
                        aggregated: nil,
                        timestamp: startedAt.adding(seconds: offset),
                        seq: UInt64(index + 1)
                    )
                )
            }
            let flood = samples
            let resend = { @Sendable () async throws in
                let from = Int(publisher.acked.withLock { $0 })
                try await publisher.publish(flood[from...])
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in acks {
                        guard let ack = try? WireCoding.decode(DeliveryAck.self, from: message.payload) else {
                            continue
                        }
                        publisher.acked.withLock { $0 = max($0, ack.seq) }
                    }
                }
                group.addTask {
                    for await _ in hellos {
                        publisher.hellos.withLock { $0 += 1 }
                        try await publisher.register()
                        try await resend()
                    }
                }
                try await publisher.publish(flood[0..<count])
                try await stack.eventually("part of the flood acknowledged", within: 60) {
                    publisher.acked.withLock { $0 } >= 2000
                }
                await stack.manager?.terminate(SIGKILL)
                let ackedAtKill = publisher.acked.withLock { $0 }
                try stack.startManager()
                // The restarted manager says hello; the publisher answers by sending everything unacknowledged.
                try await stack.eventually("everything acknowledged", within: 120) {
                    if publisher.acked.withLock({ $0 }) >= UInt64(count) { return true }
                    return false
                }
                #expect(ackedAtKill < UInt64(count), "the kill happened during the flood")
                group.cancelAll()
            }
            let (status, page) = try await stack.request("GET", "/tasks/\(id)/metrics?limit=1")
            #expect(status == 200)
            #expect(
                page["total"] == .integer(Int64(count)),
                "stored \(page["total"] ?? .null) of \(count)\n\(stack.logs)"
            )
            #expect(publisher.hellos.withLock { $0 } >= 1)
            await publisher.client.disconnect()
            await stack.stopAll()
        }
    }
}
