import Foundation
import Logging
import PropellerMQTT
import Synchronization

/// A test subscriber: connects its own `MQTTClient` to a broker, subscribes to one filter and collects
/// every message, so tests can wait for what arrived.
///
///     let probe = try await MQTTProbe.start(url: broker.url, filter: "m/#")
///     let messages = try await probe.waitForMessages(count: 3)
public final class MQTTProbe: Sendable {
    /// The probe's own client (e.g. to publish, or to read its statistics).
    public let client: MQTTClient
    private let collected = Mutex<[PubSubMessage]>([])
    private let consumer = Mutex<Task<Void, Never>?>(nil)

    private init(client: MQTTClient) {
        self.client = client
    }

    /// Connects and subscribes (returns after the broker acknowledged the subscription).
    /// `cleanSession: false` with a fixed `clientID` keeps the subscription in the broker's session.
    public static func start(
        url: String,
        filter: String,
        qos: QoS = .atLeastOnce,
        clientID: String = "probe-\(UUID().uuidString.prefix(8))",
        cleanSession: Bool = true,
        users: (username: String, password: String)? = nil
    ) async throws -> MQTTProbe {
        var configuration = MQTTConfiguration(
            url: url,
            clientID: clientID,
            username: users?.username,
            password: users?.password
        )
        configuration.cleanSession = cleanSession
        configuration.maximumReconnectDelay = .milliseconds(500)
        let client = try MQTTClient(configuration: configuration, logger: Logger(label: "test.probe"))
        try await client.connect()
        let probe = MQTTProbe(client: client)
        let stream = try await client.subscribe(filter, qos: qos)
        let task = Task { [probe] in
            for await message in stream { probe.collected.withLock { $0.append(message) } }
        }
        probe.consumer.withLock { $0 = task }
        return probe
    }

    /// Everything received so far, in arrival order.
    public var messages: [PubSubMessage] { collected.withLock { $0 } }

    /// Waits until at least `count` messages arrived and returns all received so far; throws
    /// `MQTTProbeError.timedOut` (with what did arrive) after `timeout`.
    @discardableResult
    public func waitForMessages(count: Int, timeout: Duration = .seconds(10)) async throws -> [PubSubMessage] {
        try await waitUntil(timeout: timeout, "\(count) messages") { $0.count >= count }
    }

    /// Waits until `condition` holds for the messages received so far.
    @discardableResult
    public func waitUntil(
        timeout: Duration = .seconds(10),
        _ what: String,
        _ condition: ([PubSubMessage]) -> Bool
    ) async throws -> [PubSubMessage] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let current = messages
            if condition(current) { return current }
            if ContinuousClock.now >= deadline { throw MQTTProbeError.timedOut(waitingFor: what, received: current) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Disconnects the probe's client and stops collecting.
    public func stop() async {
        await client.disconnect()
        consumer.withLock { $0 }?.cancel()
    }
}

/// A probe did not see what it waited for.
public enum MQTTProbeError: Error, CustomStringConvertible {
    /// Timed out; carries what had arrived.
    case timedOut(waitingFor: String, received: [PubSubMessage])

    /// A readable explanation with the topics received.
    public var description: String {
        switch self {
        case .timedOut(let what, let received):
            let topics = received.suffix(10).map(\.topic).joined(separator: ", ")
            return "timed out waiting for \(what); received \(received.count) (last: \(topics))"
        }
    }
}
