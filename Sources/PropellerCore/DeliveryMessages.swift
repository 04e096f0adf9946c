/// Acknowledgement: `control/manager/{proplet_id}/ack` (manager → that proplet, SPEC §2 "Delivery").
///
/// Every message of that proplet whose `seq` is at most `seq` is committed to the manager's store;
/// the proplet may forget them.
public struct DeliveryAck: Sendable, Hashable, Codable {
    public var propletID: String
    /// The highest sequence number up to which everything is committed.
    public var seq: UInt64

    public init(propletID: String, seq: UInt64) {
        self.propletID = propletID
        self.seq = seq
    }

    enum CodingKeys: String, CodingKey {
        case propletID = "proplet_id"
        case seq
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        propletID = try container.decodeIdentifier(.propletID)
        seq = UInt64(try container.decodeNonNegative(.seq))
    }
}

/// `control/manager/hello` (manager → all proplets): a manager (re)connected; every proplet answers with
/// its registration (and sends its unacknowledged messages again).
public struct ManagerHello: Sendable, Hashable, Codable {
    /// The manager's MQTT client id, or any id that tells managers apart in logs.
    public var managerID: String
    public var timestamp: Timestamp

    public init(managerID: String, timestamp: Timestamp) {
        self.managerID = managerID
        self.timestamp = timestamp
    }

    enum CodingKeys: String, CodingKey {
        case managerID = "manager_id"
        case timestamp
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        managerID = try container.decode(String.self, forKey: .managerID)
        timestamp = try container.decodeIfPresent(Timestamp.self, forKey: .timestamp) ?? .now()
    }
}

/// Where a proplet's journal of unacknowledged messages stands, sent in its registration and heartbeats
/// as `delivery` {`oldest_seq`, `next_seq`} (an addition to SPEC §2, which lets receivers ignore
/// unknown keys).
///
/// It lets the manager tell a gap that may still be filled (a message on its way or to be resent) from
/// one that never will: every `seq` below `oldest_seq` that the manager has not stored was dropped by
/// the proplet (its journal was full) and is counted as lost. A new `epoch` means the proplet lost its
/// journal (a new state directory) and numbers from 1 again.
public struct DeliveryCursor: Sendable, Hashable, Codable {
    /// The oldest `seq` the proplet still keeps (equal to `nextSeq` when nothing is pending).
    public var oldestSeq: UInt64
    /// The `seq` its next message will carry.
    public var nextSeq: UInt64
    /// Names the journal: chosen at random when the journal file is created, kept across restarts.
    public var epoch: String

    public init(oldestSeq: UInt64, nextSeq: UInt64, epoch: String) {
        self.oldestSeq = oldestSeq
        self.nextSeq = nextSeq
        self.epoch = epoch
    }

    enum CodingKeys: String, CodingKey {
        case oldestSeq = "oldest_seq"
        case nextSeq = "next_seq"
        case epoch
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        oldestSeq = UInt64(try container.decodeNonNegative(.oldestSeq))
        nextSeq = UInt64(try container.decodeNonNegative(.nextSeq))
        epoch = try container.decode(String.self, forKey: .epoch)
        guard !epoch.isEmpty, epoch.count <= 64 else {
            throw ContractError.invalidValue(field: "delivery.epoch", expected: "1 to 64 characters", got: epoch)
        }
        guard oldestSeq <= nextSeq else {
            throw ContractError.invalidValue(
                field: "delivery.oldest_seq",
                expected: "at most next_seq (\(nextSeq))",
                got: String(oldestSeq)
            )
        }
    }
}
