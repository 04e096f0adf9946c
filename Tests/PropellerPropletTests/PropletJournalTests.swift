import Foundation
import PropellerCore
import Testing

@testable import PropellerProplet

@Suite("Proplet journal of unacknowledged messages")
struct PropletJournalTests {
    func path() -> String {
        NSTemporaryDirectory() + "journal-test-\(UUID().uuidString)"
    }

    func record(_ journal: PropletJournal, _ text: String) throws -> UInt64 {
        try journal.record(topic: "m/d/c/c/control/proplet/task_metrics") { seq in Array("\(text)-\(seq)".utf8) }.seq
    }

    @Test("seq grows from 1 and survives a reopen; acknowledged messages are forgotten, the rest replayed")
    func persistence() throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        var journal = try PropletJournal(path: file)
        #expect(try (0..<5).map { _ in try record(journal, "a") } == [1, 2, 3, 4, 5])
        #expect(journal.acknowledge(upTo: 3) == 3)
        let epoch = journal.cursor.epoch
        journal = try PropletJournal(path: file)
        #expect(journal.pendingCount == 2)
        #expect(journal.cursor == DeliveryCursor(oldestSeq: 4, nextSeq: 6, epoch: epoch))
        #expect(journal.due(overdueAfter: nil).map { String(decoding: $0.payload, as: UTF8.self) } == ["a-4", "a-5"])
        #expect(try record(journal, "b") == 6)
        journal.acknowledge(upTo: 6)
        journal = try PropletJournal(path: file)
        #expect(journal.pendingCount == 0)
        #expect(try record(journal, "c") == 7, "the counter survives even when nothing is pending")
    }

    @Test("a torn last line from a crash is ignored")
    func tornLine() throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let journal = try PropletJournal(path: file)
        _ = try record(journal, "x")
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data("M\t2\tm/d".utf8))
        try handle.close()
        let reopened = try PropletJournal(path: file)
        #expect(reopened.pendingCount == 2 || reopened.pendingCount == 1)
        #expect(reopened.due(overdueAfter: nil).first.map { String(decoding: $0.payload, as: UTF8.self) } == "x-1")
    }

    @Test("past its byte bound the oldest messages are dropped and counted")
    func bound() throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let topic = "t"
        let journal = try PropletJournal(path: file, maxBytes: 10 * (topic.utf8.count + 99))
        for _ in 0..<15 {
            _ = try journal.record(topic: topic) { _ in [UInt8](repeating: 65, count: 99) }
        }
        #expect(journal.pendingCount == 10)
        #expect(journal.droppedCount == 5)
        #expect(journal.cursor.oldestSeq == 6)
        #expect(try PropletJournal(path: file, maxBytes: 4096).droppedCount == 5, "drops survive a restart")
    }

    @Test("only overdue messages are due for a resend; a reconnect resends all, oldest first")
    func overdue() throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let journal = try PropletJournal(path: file)
        for _ in 0..<3 { _ = try record(journal, "m") }
        #expect(journal.due(overdueAfter: .seconds(60)).isEmpty)
        #expect(journal.due(overdueAfter: .zero).map(\.seq) == [1, 2, 3])
        #expect(journal.due(overdueAfter: nil).map(\.seq) == [1, 2, 3])
    }
}
