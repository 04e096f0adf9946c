import Logging
import PropellerCore
import PropellerMQTT
import Synchronization

/// The manager's half of acknowledged delivery (SPEC §2 "Delivery"): commits `seq`s to the store's
/// ledger, acknowledges each proplet's contiguous mark on `control/manager/{proplet_id}/ack`, counts
/// what can never arrive (`propeller_samples_lost_total`), and says hello.
///
/// An acknowledgement is published only after the store committed everything it covers, so a
/// manager crash between receiving and committing loses nothing: the proplet still has the message
/// and sends it again.
final class DeliveryAcknowledger: Sendable {
    let store: any Store
    let pubsub: any PubSub
    let topics: Topics
    let metrics: ManagerMetrics
    let managerID: String
    let time: any TimeSource
    let logger: Logger
    private let lastHello = Mutex<ContinuousClock.Instant?>(nil)

    init(
        store: any Store,
        pubsub: any PubSub,
        topics: Topics,
        metrics: ManagerMetrics,
        managerID: String,
        time: any TimeSource,
        logger: Logger
    ) {
        self.store = store
        self.pubsub = pubsub
        self.topics = topics
        self.metrics = metrics
        self.managerID = managerID
        self.time = time
        self.logger = logger
    }

    /// Commits `seqs` per proplet (after their messages were stored), counts duplicates, and
    /// acknowledges each proplet's mark.
    func commit(_ seqs: [String: [UInt64]]) async throws(ManagerError) {
        guard !seqs.isEmpty else { return }
        let progress: [String: DeliveryProgress]
        do {
            progress = try await store.commitSeqs(seqs)
        } catch {
            logger.error("delivery ledger not updated", metadata: ["error": "\(error)"])
            throw .internalFailure("commit delivered seqs failed")
        }
        for (propletID, step) in progress {
            metrics.messageDropped(reason: DropReason.duplicate.rawValue, count: step.duplicates)
            await publishAck(propletID: propletID, seq: step.ackedSeq)
        }
    }

    /// Acknowledges a proplet's current mark again (after a duplicate).
    func acknowledge(propletID: String) async {
        guard let seq = try? await store.ackedSeq(propletID: propletID) else { return }
        await publishAck(propletID: propletID, seq: seq)
    }

    /// Applies the cursor of a registration or heartbeat: counts `seq`s the proplet no longer has and
    /// were never committed as lost, and acknowledges the mark.
    func reconcile(propletID: String, cursor: DeliveryCursor) async throws(ManagerError) {
        let progress: DeliveryProgress
        do {
            progress = try await store.reconcileDelivery(propletID: propletID, cursor: cursor)
        } catch {
            logger.error("delivery ledger not reconciled", metadata: ["error": "\(error)"])
            throw .internalFailure("reconcile delivery ledger failed")
        }
        if progress.lost > 0 {
            metrics.samplesLost(progress.lost, propletID: propletID)
            logger.warning(
                "messages lost: the proplet dropped them before they were committed",
                metadata: ["proplet.id": "\(propletID)", "count": "\(progress.lost)"]
            )
        }
        await publishAck(propletID: propletID, seq: progress.ackedSeq)
    }

    /// Publishes `control/manager/hello`; unless `force`d, at most once every 5 s (a hello makes every
    /// proplet register and resend).
    func sayHello(reason: String, force: Bool = false) async {
        let now = ContinuousClock.now
        let due = lastHello.withLock { last -> Bool in
            if !force, let last, now - last < .seconds(5) { return false }
            last = now
            return true
        }
        guard due else { return }
        do {
            try await pubsub.publish(
                topics.topic(.managerHello),
                json: ManagerHello(managerID: managerID, timestamp: time.now()),
                qos: .atLeastOnce
            )
            logger.debug("hello sent", metadata: ["reason": "\(reason)"])
        } catch {
            logger.error("cannot publish hello", metadata: ["error": "\(error)"])
        }
    }

    private func publishAck(propletID: String, seq: UInt64?) async {
        guard let seq else { return }
        do {
            try await pubsub.publish(
                topics.topic(.managerAck, propletID: propletID),
                json: DeliveryAck(propletID: propletID, seq: seq),
                qos: .atLeastOnce
            )
        } catch {
            logger.error(
                "cannot publish an acknowledgement",
                metadata: ["proplet.id": "\(propletID)", "error": "\(error)"]
            )
        }
    }
}
