import PropellerCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The proplet's journal of messages the manager has not acknowledged yet (SPEC §2 "Delivery"), in
/// memory and in `<state dir>/journal`, and the source of every `seq`.
///
/// - `record` gives the next message its `seq` (one counter per proplet, starting at 1, surviving
///   restarts through the file) and appends it to the file before it is published.
/// - `acknowledge(upTo:)` forgets every message up to a `seq` (the manager committed them).
/// - `due` lists what to send again, oldest first: every message after a reconnect or a manager's
///   hello, and messages whose acknowledgement is overdue.
/// - Past `maxBytes` (payload + topic bytes, `PROPLET_OUTBOX_MAX_BYTES`) the oldest messages are dropped
///   and counted (`droppedCount`); the manager counts the gap as lost.
///
/// The file is a log of lines — `M seq topic payload` (a message), `A seq` (acknowledged up to),
/// `D seq` (dropped), `N seq epoch` (next seq and the journal's epoch, written when the file is
/// created or compacted) — replayed on start; a
/// torn last line from a crash is ignored. Lines are written with plain `write(2)`: a killed proplet
/// loses nothing (the kernel has the bytes); a power loss may lose the last writes.
package final class PropletJournal: Sendable {
    /// One journaled message.
    package struct Entry: Sendable, Hashable {
        package var seq: UInt64
        package var topic: String
        package var payload: [UInt8]
        var lastSent: ContinuousClock.Instant?

        var size: Int { payload.count + topic.utf8.count }
    }

    private struct State {
        var entries: [Entry] = []
        var head = 0
        var bytes = 0
        var nextSeq: UInt64 = 1
        var dropped = 0
        var fd: Int32 = -1
        var fileBytes = 0
        var epoch = ""

        var pending: ArraySlice<Entry> { entries[head...] }

        mutating func removeFirst() -> Entry {
            let entry = entries[head]
            head += 1
            bytes -= entry.size
            if head > 1024 && head * 2 > entries.count {
                entries.removeFirst(head)
                head = 0
            }
            return entry
        }
    }

    /// The journal file.
    package let path: String
    /// Most bytes kept (payloads and topics); default 64 MiB.
    package let maxBytes: Int
    private let state: Mutex<State>

    /// Opens (or creates, mode 0600) the journal file at `path` and replays it.
    ///
    /// - Throws: `PropletError.stateDirectory` when the file cannot be opened or written.
    package init(path: String, maxBytes: Int = 64 << 20) throws(PropletError) {
        self.path = path
        self.maxBytes = max(1, maxBytes)
        var state = State()
        if let contents = Self.readFile(path) { Self.replay(contents, into: &state) }
        if state.epoch.isEmpty {
            state.epoch = String(UInt64.random(in: 1...UInt64.max), radix: 16)
        }
        while state.bytes > self.maxBytes, state.head < state.entries.count {
            _ = state.removeFirst()
            state.dropped += 1
        }
        state.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard state.fd >= 0 else {
            throw .stateDirectory(path: path, reason: String(cString: strerror(errno)))
        }
        let initial = state
        self.state = Mutex(initial)
        try compact()
    }

    deinit {
        state.withLock { state in
            if state.fd >= 0 { close(state.fd) }
        }
    }

    /// Messages dropped because the journal was full (since this process started, plus on load).
    package var droppedCount: Int { state.withLock { $0.dropped } }

    /// Messages kept, and their bytes.
    package var pendingCount: Int { state.withLock { $0.entries.count - $0.head } }

    /// Bytes kept (payloads and topics).
    package var pendingBytes: Int { state.withLock { $0.bytes } }

    /// Where the journal stands, for registrations and heartbeats.
    package var cursor: DeliveryCursor {
        state.withLock { state in
            DeliveryCursor(
                oldestSeq: state.pending.first?.seq ?? state.nextSeq,
                nextSeq: state.nextSeq,
                epoch: state.epoch
            )
        }
    }

    /// Gives a message its `seq`, builds its payload with it (`build`), journals it and returns the
    /// payload to publish. Drops the oldest messages when the bound is passed; the returned count says
    /// how many.
    package func record(
        topic: String,
        build: (UInt64) throws -> [UInt8]
    ) throws -> (seq: UInt64, payload: [UInt8], dropped: Int) {
        try state.withLock { state in
            let seq = state.nextSeq
            let payload = try build(seq)
            state.nextSeq += 1
            let entry = Entry(seq: seq, topic: topic, payload: payload, lastSent: .now)
            var line = Array("M\t\(seq)\t\(topic)\t".utf8)
            line += payload
            line.append(UInt8(ascii: "\n"))
            Self.write(line, to: state.fd)
            state.fileBytes += line.count
            state.entries.append(entry)
            state.bytes += entry.size
            var dropped = 0
            while state.bytes > maxBytes, state.entries.count - state.head > 1 {
                let old = state.removeFirst()
                let drop = Array("D\t\(old.seq)\n".utf8)
                Self.write(drop, to: state.fd)
                state.fileBytes += drop.count
                dropped += 1
            }
            state.dropped += dropped
            return (seq, payload, dropped)
        }
    }

    /// Forgets every message with a `seq` up to `seq`; returns how many were forgotten.
    @discardableResult
    package func acknowledge(upTo seq: UInt64) -> Int {
        let (forgotten, needsCompaction) = state.withLock { state -> (Int, Bool) in
            var forgotten = 0
            while let first = state.pending.first, first.seq <= seq {
                _ = state.removeFirst()
                forgotten += 1
            }
            guard forgotten > 0 else { return (0, false) }
            let line = Array("A\t\(seq)\n".utf8)
            Self.write(line, to: state.fd)
            state.fileBytes += line.count
            return (forgotten, state.fileBytes > max(1 << 20, 2 * state.bytes + 4096))
        }
        if needsCompaction { try? compact() }
        return forgotten
    }

    /// The messages to send again, oldest first, at most `limit`: all of them (`overdueAfter` nil:
    /// after a reconnect or a hello), or those last sent at least `overdueAfter` ago. Marks them sent now.
    package func due(overdueAfter: Duration?, limit: Int = 5000) -> [Entry] {
        let now = ContinuousClock.now
        return state.withLock { state in
            var result: [Entry] = []
            var index = state.head
            while index < state.entries.count, result.count < limit {
                let entry = state.entries[index]
                if let overdueAfter, let sent = entry.lastSent, now - sent < overdueAfter {
                    index += 1
                    continue
                }
                state.entries[index].lastSent = now
                result.append(entry)
                index += 1
            }
            return result
        }
    }

    /// Rewrites the file with only the pending messages (after a restart, and when acknowledged lines
    /// make up most of it): `N next` first, then one `M` line per message; atomic by rename.
    package func compact() throws(PropletError) {
        try state.withLock { (state) throws(PropletError) in
            var contents = Array("N\t\(state.nextSeq)\t\(state.epoch)\n".utf8)
            for entry in state.pending {
                contents += Array("M\t\(entry.seq)\t\(entry.topic)\t".utf8)
                contents += entry.payload
                contents.append(UInt8(ascii: "\n"))
            }
            let temporary = path + ".tmp"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw .stateDirectory(path: temporary, reason: String(cString: strerror(errno))) }
            Self.write(contents, to: fd)
            close(fd)
            guard rename(temporary, path) == 0 else {
                throw .stateDirectory(path: path, reason: String(cString: strerror(errno)))
            }
            let reopened = open(path, O_WRONLY | O_APPEND | O_CLOEXEC, 0o600)
            guard reopened >= 0 else { throw .stateDirectory(path: path, reason: String(cString: strerror(errno))) }
            if state.fd >= 0 { close(state.fd) }
            state.fd = reopened
            state.fileBytes = contents.count
        }
    }

    private static func write(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    private static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            contents += buffer[0..<count]
        }
        return contents
    }

    /// Replays the log into `state`; lines that do not parse (a torn last line) are skipped. Messages
    /// are written in `seq` order and acknowledgements and drops remove the oldest, so the replay is
    /// one pass over a queue.
    private static func replay(_ contents: [UInt8], into state: inout State) {
        var entries: [Entry] = []
        var head = 0
        for line in contents.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: "\t"), maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count >= 2, let number = UInt64(String(decoding: fields[1], as: UTF8.self)) else {
                continue
            }
            switch fields[0].first {
            case UInt8(ascii: "M") where fields.count == 4:
                guard number >= state.nextSeq else { continue }
                entries.append(
                    Entry(seq: number, topic: String(decoding: fields[2], as: UTF8.self), payload: Array(fields[3]))
                )
                state.nextSeq = number + 1
            case UInt8(ascii: "A"):
                while head < entries.count, entries[head].seq <= number { head += 1 }
                state.nextSeq = max(state.nextSeq, number + 1)
            case UInt8(ascii: "D"):
                while head < entries.count, entries[head].seq <= number {
                    head += 1
                    state.dropped += 1
                }
            case UInt8(ascii: "N"):
                state.nextSeq = max(state.nextSeq, number)
                if fields.count >= 3 { state.epoch = String(decoding: fields[2], as: UTF8.self) }
            default:
                continue
            }
        }
        state.entries = Array(entries[head...])
        state.bytes = state.entries.reduce(0) { $0 + $1.size }
    }
}
