import Testing

@testable import PropellerCore

@Suite("Topics")
struct TopicsTests {
    @Test("topics are built under m/{domain}/c/{channel}/, per proplet where a message is for or from one")
    func build() {
        let topics = Topics(domainID: "d1", channelID: "c1")
        #expect(topics.topic(.propletCreate, propletID: "p1") == "m/d1/c/c1/control/proplet/p1/create")
        #expect(topics.topic(.propletAlive, propletID: "p1") == "m/d1/c/c1/control/proplet/p1/alive")
        #expect(topics.topic(.propletResults, propletID: "p1") == "m/d1/c/c1/control/proplet/p1/results")
        #expect(topics.topic(.managerStart, propletID: "p1") == "m/d1/c/c1/control/manager/p1/start")
        #expect(topics.topic(.managerStop, propletID: "p1") == "m/d1/c/c1/control/manager/p1/stop")
        #expect(topics.topic(.managerAck, propletID: "p1") == "m/d1/c/c1/control/manager/p1/ack")
        #expect(topics.topic(.managerHello) == "m/d1/c/c1/control/manager/hello")
        #expect(topics.topic(.metricsProplet) == "m/d1/c/c1/metrics/proplet")
        #expect(topics.topic(.propletMetrics) == "m/d1/c/c1/control/proplet/metrics")
        #expect(Topics().topic(.propletTaskMetrics) == "m/default/c/default/control/proplet/task_metrics")
        #expect(topics.filter(.propletAlive) == "m/d1/c/c1/control/proplet/+/alive")
    }

    @Test("received topics parse into domain, channel, kind and proplet id", arguments: Topics.Kind.allCases)
    func parse(kind: Topics.Kind) throws {
        let topics = Topics(domainID: "dom", channelID: "chan")
        let topic = topics.topic(kind, propletID: "p-7")
        let parsed = try #require(Topics.parse(topic))
        #expect(parsed.domainID == "dom")
        #expect(parsed.channelID == "chan")
        #expect(parsed.kind == kind)
        #expect(parsed.propletID == (kind.isPerProplet ? "p-7" : nil))
        #expect(topics.kind(of: topic) == kind)
        #expect(Topics(domainID: "other", channelID: "chan").kind(of: topic) == nil)
    }

    @Test(
        "foreign topics are not parsed",
        arguments: [
            "", "m/d/c/c", "x/d/c/c/metrics/proplet", "m//c/c/metrics/proplet", "m/d/c/c/metrics/other",
            "m/d/c/c/control/proplet/create", "m/d/c/c/control/proplet//alive", "m/d/c/c/control/proplet/a/b/alive",
            "m/d/c/c/control/manager/start",
        ]
    )
    func foreign(topic: String) {
        #expect(Topics.parse(topic) == nil)
    }
}
