/// The bounded FIFO of QoS ≥ 1 messages waiting to be handed to libmosquitto, in publish order.
///
/// Appending past either bound drops the oldest waiting messages (the newest data is the most
/// useful to a monitoring system) and reports how many were dropped. Messages that were in flight
/// when a connection ended go back to the front, ahead of everything queued later.
struct MQTTOutbox {
    private var items: [PubSubMessage] = []
    private var head = 0
    private(set) var bytes = 0
    let messageLimit: Int
    let byteLimit: Int

    init(messageLimit: Int, byteLimit: Int) {
        self.messageLimit = max(1, messageLimit)
        self.byteLimit = max(1, byteLimit)
    }

    /// Messages waiting.
    var count: Int { items.count - head }

    /// The oldest waiting message.
    var first: PubSubMessage? { head < items.count ? items[head] : nil }

    /// Appends `message`; returns the number of messages dropped to stay within the bounds (the
    /// message itself is dropped when its payload alone exceeds the byte bound).
    mutating func append(_ message: PubSubMessage) -> Int {
        guard message.payload.count <= byteLimit else { return 1 }
        var dropped = 0
        while count > 0 && (count + 1 > messageLimit || bytes + message.payload.count > byteLimit) {
            _ = removeFirst()
            dropped += 1
        }
        items.append(message)
        bytes += message.payload.count
        return dropped
    }

    /// Removes and returns the oldest message.
    mutating func removeFirst() -> PubSubMessage? {
        guard head < items.count else { return nil }
        let message = items[head]
        head += 1
        bytes -= message.payload.count
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return message
    }

    /// Puts `messages` (in their order) in front of everything waiting. Bounds are not applied: these
    /// messages were accepted before.
    mutating func prepend(_ messages: [PubSubMessage]) {
        guard !messages.isEmpty else { return }
        items = messages + items[head...]
        head = 0
        bytes += messages.reduce(0) { $0 + $1.payload.count }
    }
}
