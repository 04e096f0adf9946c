import Logging
import PropellerCore
import PropellerMQTT

/// Publishes the messages the manager must store (task samples, proplet samples, results) through the
/// proplet's journal: each gets its `seq`, is journaled, then published at QoS 1, and is sent again —
/// oldest first — after every reconnect, on every manager hello, and whenever its acknowledgement is
/// overdue, until the manager acknowledges it (SPEC §2 "Delivery").
package struct JournaledPublisher: Sendable {
    /// The journal behind it.
    package let journal: PropletJournal
    private let pubSub: any PubSub
    private let logger: Logger
    /// How long an unacknowledged message waits before it is sent again.
    package let ackTimeout: Duration

    /// Creates the publisher over a journal.
    package init(journal: PropletJournal, pubSub: any PubSub, ackTimeout: Duration, logger: Logger) {
        self.journal = journal
        self.pubSub = pubSub
        self.ackTimeout = ackTimeout
        self.logger = logger
    }

    /// Numbers, journals and publishes one message; `build` encodes the payload with the given `seq`.
    /// Returns the payload (with its `seq`) so the caller can publish the same bytes elsewhere.
    @discardableResult
    package func publish(_ topic: String, build: (UInt64) throws -> [UInt8]) async throws -> [UInt8] {
        let (_, payload, dropped) = try journal.record(topic: topic, build: build)
        if dropped > 0 {
            logger.warning(
                "journal full: oldest unacknowledged messages dropped",
                metadata: ["dropped": "\(dropped)", "max_bytes": "\(journal.maxBytes)"]
            )
        }
        try await pubSub.publish(topic, payload: payload, qos: .atLeastOnce, retain: false)
        return payload
    }

    /// Numbers, journals and publishes a value as JSON; `stamp` puts the `seq` into the value.
    @discardableResult
    package func publish<T: Encodable>(
        _ topic: String,
        _ value: T,
        stamp: @escaping (inout T, UInt64) -> Void
    ) async throws -> [UInt8] {
        try await publish(topic) { seq in
            var numbered = value
            stamp(&numbered, seq)
            return Array(try WireCoding.encode(numbered))
        }
    }

    /// Sends journaled messages again, oldest first: all of them (`onlyOverdue` false: after a reconnect
    /// or a hello), or those whose acknowledgement is overdue. Returns how many were sent.
    @discardableResult
    package func resend(onlyOverdue: Bool) async -> Int {
        let due = journal.due(overdueAfter: onlyOverdue ? ackTimeout : nil)
        for entry in due {
            do {
                try await pubSub.publish(entry.topic, payload: entry.payload, qos: .atLeastOnce, retain: false)
            } catch {
                logger.error(
                    "cannot resend a journaled message",
                    metadata: ["seq": "\(entry.seq)", "error": "\(error)"]
                )
                return 0
            }
        }
        if !due.isEmpty {
            logger.debug(
                "unacknowledged messages sent again",
                metadata: ["count": "\(due.count)", "first_seq": "\(due[0].seq)", "overdue_only": "\(onlyOverdue)"]
            )
        }
        return due.count
    }

    /// Applies an acknowledgement: forgets everything up to its `seq`.
    package func acknowledge(_ ack: DeliveryAck) {
        journal.acknowledge(upTo: ack.seq)
    }

    /// Resends overdue messages once a second until cancelled.
    package func resendOverdue<C: Clock>(clock: C) async where C.Duration == Duration {
        while !Task.isCancelled {
            do {
                try await clock.sleep(for: .seconds(1))
            } catch {
                return
            }
            await resend(onlyOverdue: true)
        }
    }
}
