import Foundation
import Logging
import PropellerMQTT

/// Builds clients for tests: unique client ids, short reconnect delays, a quiet logger.
enum MQTTTestClient {
    static func make(
        url: String,
        name: String = "client",
        logger: Logger? = nil,
        configure: (inout MQTTConfiguration) -> Void = { _ in }
    ) throws -> MQTTClient {
        var configuration = MQTTConfiguration(url: url, clientID: "\(name)-\(UUID().uuidString.prefix(8))")
        configuration.maximumReconnectDelay = .milliseconds(400)
        configure(&configuration)
        var quiet = Logger(label: "test.mqtt.\(name)")
        quiet.logLevel = .warning
        return try MQTTClient(configuration: configuration, logger: logger ?? quiet)
    }

    static func connected(url: String, name: String = "client") async throws -> MQTTClient {
        let client = try make(url: url, name: name)
        try await client.connect()
        return client
    }
}

extension Array where Element == UInt8 {
    /// `count` pseudo-random bytes (every byte value occurs).
    static func random(count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
