import Foundation
import Logging
import PropellerMQTT

// A small tool around MQTTClient for the MQTT benchmark and for tests that need a separate process:
//
//   propeller-mqtt-bench throughput URL COUNT QOS SIZE
//       subscribes (one client) and publishes COUNT messages of SIZE bytes (another client) through
//       the broker; prints one JSON line: {"messages":…,"seconds":…,"per_second":…}
//   propeller-mqtt-bench subscribe URL TOPIC COUNT QOS
//       subscribes, prints "subscribed", receives COUNT messages, prints the JSON rate line
//   propeller-mqtt-bench publish URL TOPIC COUNT QOS SIZE
//       publishes COUNT messages of SIZE bytes and disconnects once they are acknowledged
//   propeller-mqtt-bench publish-lines URL TOPIC QOS FILE
//       publishes every line of FILE as one message (as `mosquitto_pub -l` does, but with the client's
//       wide in-flight window) and disconnects once they are acknowledged; prints the JSON rate line
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
    let published = ContinuousClock.now - start
    let total = await received
    let seconds = (ContinuousClock.now - start) / .seconds(1)
    let publishSeconds = published / .seconds(1)
    print(
        "{\"messages\":\(total),\"seconds\":\(seconds),\"per_second\":\(Double(total) / seconds),"
            + "\"publish_seconds\":\(publishSeconds)}"
    )
    await publisher.disconnect()
    await subscriber.disconnect()
}

/// Subscribes, prints "subscribed", then waits for COUNT messages and prints the JSON rate line (timed
/// from the first message received to the last).
func subscribeOnly(url: String, topic: String, count: Int, qos: QoS) async throws {
    let client = try MQTTClient(
        configuration: MQTTConfiguration(url: url, clientID: "bench-sub-\(getpid())"),
        logger: logger
    )
    try await client.connect()
    let stream = try await client.subscribe(topic, qos: qos)
    FileHandle.standardOutput.write(Data("subscribed\n".utf8))
    var received = 0
    var start = ContinuousClock.now
    for await _ in stream {
        if received == 0 { start = ContinuousClock.now }
        received += 1
        if received == count { break }
    }
    let seconds = (ContinuousClock.now - start) / .seconds(1)
    print("{\"messages\":\(received),\"seconds\":\(seconds),\"per_second\":\(Double(received) / seconds)}")
    await client.disconnect()
}

/// Publishes COUNT messages of SIZE bytes and disconnects (which waits for the acknowledgements).
func publishOnly(url: String, topic: String, count: Int, qos: QoS, size: Int) async throws {
    var configuration = MQTTConfiguration(url: url, clientID: "bench-pub-\(getpid())")
    configuration.drainTimeout = .seconds(600)
    let client = try MQTTClient(configuration: configuration, logger: logger)
    try await client.connect()
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
    for _ in 0..<count { try await client.publish(topic, payload: payload, qos: qos, retain: false) }
    await client.disconnect()
}

/// Publishes each line of `path` (without its newline) as one message, then disconnects (which waits for
/// the acknowledgements); prints the JSON rate line, timed from the first publish to the disconnect.
func publishLines(url: String, topic: String, qos: QoS, path: String) async throws {
    guard let contents = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
    let lines = contents.split(separator: UInt8(ascii: "\n")).map(Array.init)
    var configuration = MQTTConfiguration(url: url, clientID: "bench-lines-\(getpid())")
    configuration.drainTimeout = .seconds(600)
    let client = try MQTTClient(configuration: configuration, logger: logger)
    try await client.connect()
    let start = ContinuousClock.now
    for (index, line) in lines.enumerated() {
        // Backpressure: the client's outbox drops its oldest messages when full (100,000), so keep at
        // most 20,000 waiting.
        if index % 1000 == 0 {
            while client.statistics.outboxMessages > 20_000 { try await Task.sleep(for: .milliseconds(1)) }
        }
        try await client.publish(topic, payload: line, qos: qos, retain: false)
    }
    await client.disconnect()
    let seconds = (ContinuousClock.now - start) / .seconds(1)
    let dropped = client.statistics.droppedFromOutbox
    guard dropped == 0 else { fail("\(dropped) messages dropped from the outbox") }
    print("{\"messages\":\(lines.count),\"seconds\":\(seconds),\"per_second\":\(Double(lines.count) / seconds)}")
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
    case "subscribe" where arguments.count == 5:
        guard let count = Int(arguments[3]), count > 0, let qosValue = Int32(arguments[4]),
            let qos = QoS(rawValue: qosValue)
        else { fail("usage: subscribe URL TOPIC COUNT(>0) QOS(0|1|2)") }
        try await subscribeOnly(url: arguments[1], topic: arguments[2], count: count, qos: qos)
    case "publish" where arguments.count == 6:
        guard let count = Int(arguments[3]), count > 0, let qosValue = Int32(arguments[4]),
            let qos = QoS(rawValue: qosValue), let size = Int(arguments[5]), size >= 0
        else { fail("usage: publish URL TOPIC COUNT(>0) QOS(0|1|2) SIZE(bytes)") }
        try await publishOnly(url: arguments[1], topic: arguments[2], count: count, qos: qos, size: size)
    case "publish-lines" where arguments.count == 5:
        guard let qosValue = Int32(arguments[3]), let qos = QoS(rawValue: qosValue) else {
            fail("usage: publish-lines URL TOPIC QOS(0|1|2) FILE")
        }
        try await publishLines(url: arguments[1], topic: arguments[2], qos: qos, path: arguments[4])
    case "will" where arguments.count == 5:
        try await holdWithWill(url: arguments[1], clientID: arguments[2], topic: arguments[3], payload: arguments[4])
    default:
        fail(
            "usage: propeller-mqtt-bench throughput URL COUNT QOS SIZE | subscribe URL TOPIC COUNT QOS"
                + " | publish URL TOPIC COUNT QOS SIZE | publish-lines URL TOPIC QOS FILE | will URL CLIENT_ID TOPIC PAYLOAD"
        )
    }
} catch {
    fail("error: \(error)")
}
