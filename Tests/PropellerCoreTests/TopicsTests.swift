import Testing

@testable import PropellerCore

@Suite("Topics")
struct TopicsTests {
    @Test("topics are built under m/{domain}/c/{channel}/")
    func build() {
        let topics = Topics(domainID: "d1", channelID: "c1")
        #expect(topics.topic(.propletCreate) == "m/d1/c/c1/control/proplet/create")
        #expect(topics.topic(.managerStart) == "m/d1/c/c1/control/manager/start")
        #expect(topics.topic(.metricsProplet) == "m/d1/c/c1/metrics/proplet")
        #expect(Topics().topic(.propletTaskMetrics) == "m/default/c/default/control/proplet/task_metrics")
    }

    @Test("received topics parse into domain, channel and kind", arguments: Topics.Kind.allCases)
    func parse(kind: Topics.Kind) throws {
        let parsed = try #require(Topics.parse("m/dom/c/chan/" + kind.rawValue))
        #expect(parsed.domainID == "dom")
        #expect(parsed.channelID == "chan")
        #expect(parsed.kind == kind)
        #expect(Topics(domainID: "dom", channelID: "chan").kind(of: "m/dom/c/chan/" + kind.rawValue) == kind)
        #expect(Topics(domainID: "other", channelID: "chan").kind(of: "m/dom/c/chan/" + kind.rawValue) == nil)
    }

    @Test(
        "foreign topics are not parsed",
        arguments: ["", "m/d/c/c", "x/d/c/c/metrics/proplet", "m//c/c/metrics/proplet", "m/d/c/c/metrics/other"]
    )
    func foreign(topic: String) {
        #expect(Topics.parse(topic) == nil)
    }
}
