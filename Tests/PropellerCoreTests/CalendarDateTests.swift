import Foundation
import PropellerCore
import Testing

@Suite("RFC 3339: impossible calendar dates")
struct CalendarDateTests {
    @Test("days beyond the month's length are rejected; leap days only in leap years")
    func impossibleDates() {
        for bad in [
            "2025-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2025-04-31T10:00:00Z",
            "2025-06-31T10:00:00Z", "2025-09-31T10:00:00Z", "2025-11-31T10:00:00Z", "2025-01-32T10:00:00Z",
            "2025-01-00T10:00:00Z",
        ] {
            #expect(Timestamp(rfc3339: bad) == nil, "\(bad) must be rejected")
        }
        for good in [
            "2024-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "2025-02-28T23:59:59Z", "2025-04-30T10:00:00Z",
            "2025-12-31T23:59:59.999999Z",
        ] {
            #expect(Timestamp(rfc3339: good) != nil, "\(good) must be accepted")
        }
        #expect(Timestamp(rfc3339: "2024-02-29T12:00:00Z")?.rfc3339 == "2024-02-29T12:00:00.000000Z")
    }

    @Test("a sample stamped Feb 30 is rejected naming the timestamp field")
    func sampleOnFebruary30() throws {
        let json = #"{"task_id": "t", "proplet_id": "p", "metrics": {}, "timestamp": "2025-02-30T10:00:00Z"}"#
        do {
            _ = try WireCoding.decode(TaskSample.self, from: Array(json.utf8))
            Issue.record("Feb 30 accepted")
        } catch {
            #expect(error.description.contains("timestamp"), "\(error)")
        }
    }
}
