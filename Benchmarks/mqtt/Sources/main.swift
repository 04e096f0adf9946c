import Foundation
import Logging
import PropellerMQTT

// A small tool around MQTTClient for the MQTT benchmark and for tests that need a separate process:
//
//   propeller-mqtt-bench throughput URL COUNT QOS SIZE
//       subscribes (one client) and publishes COUNT messages of SIZE bytes (another client) through
//       the broker; prints one JSON line: {"messages":…,"seconds":…,"per_second":…}
//   propeller-mqtt-bench will URL CLIENT_ID WILL_TOPIC WILL_PAYLOAD
//       connects with that last will, prints "connected" and waits to be killed.

let arguments = Array(CommandLine.arguments.dropFirst())
let logger = Logger(label: "propeller-mqtt-bench")

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

func throughput(url: String, count: Int, qos: QoS, size: Int) async throws {
    let topic = "bench/\(UUID().uuidString.prefix(8))"
    let subscriber = try MQTTClient(
        configuration: MQTTConfiguration(url: url, clientID: "bench-sub-\(getpid())"),
        logger: logger
    )
    let publisher = try MQTTClient(
        configuration: MQTTConfiguration(url: url, clientID: "bench-pub-\(getpid())"),
        logger: logger
    )
    try await subscriber.connect()
    try await publisher.connect()
    let stream = try await subscriber.subscribe(topic, qos: qos)
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
    let start = ContinuousClock.now
    async let received: Int = {
        var received = 0
        for await _ in stream {
            received += 1
            if received == count { break }
        }
        return received
    }()
    for _ in 0..<count {
        try await publisher.publish(topic, payload: payload, qos: qos, retain: false)
    }
    let total = await received
    let seconds = (ContinuousClock.now - start) / .seconds(1)
    print("{\"messages\":\(total),\"seconds\":\(seconds),\"per_second\":\(Double(total) / seconds)}")
    await publisher.disconnect()
    await subscriber.disconnect()
}

func holdWithWill(url: String, clientID: String, topic: String, payload: String) async throws -> Never {
    let will = PubSubMessage(topic: topic, payload: Array(payload.utf8), qos: .atLeastOnce)
    let client = try MQTTClient(
        configuration: MQTTConfiguration(url: url, clientID: clientID, will: will),
        logger: logger
    )
    try await client.connect()
    FileHandle.standardOutput.write(Data("connected\n".utf8))
    while true { try await Task.sleep(for: .seconds(3600)) }
}

do {
    switch arguments.first {
    case "throughput" where arguments.count == 5:
        guard let count = Int(arguments[2]), count > 0, let qosValue = Int32(arguments[3]),
            let qos = QoS(rawValue: qosValue), let size = Int(arguments[4]), size >= 0
        else { fail("usage: throughput URL COUNT(>0) QOS(0|1|2) SIZE(bytes)") }
        try await throughput(url: arguments[1], count: count, qos: qos, size: size)
    case "will" where arguments.count == 5:
        try await holdWithWill(url: arguments[1], clientID: arguments[2], topic: arguments[3], payload: arguments[4])
    default:
        fail("usage: propeller-mqtt-bench throughput URL COUNT QOS SIZE | will URL CLIENT_ID TOPIC PAYLOAD")
    }
} catch {
    fail("error: \(error)")
}
