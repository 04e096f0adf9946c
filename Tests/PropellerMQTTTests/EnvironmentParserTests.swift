import PropellerMQTT
import Testing

@Suite("EnvironmentParser: the shared variables and durations")
struct EnvironmentParserTests {
    @Test("PROPELLER_MQTT_URL accepts mqtt://, tcp://, mqtts:// and ssl://", arguments: ["mqtt", "tcp", "mqtts", "ssl"])
    func schemes(scheme: String) throws {
        let url = "\(scheme)://broker.example:8883"
        #expect(try EnvironmentParser(["PROPELLER_MQTT_URL": url]).mqttURL() == url)
    }

    @Test("a bad broker URL names the variable and the reason")
    func badURL() {
        for (url, reason) in [("http://x", "scheme"), ("mqtt://x:0", "port"), ("mqtt://u:p@x", "password")] {
            #expect {
                try EnvironmentParser(["PROPELLER_MQTT_URL": url]).mqttURL()
            } throws: { error in
                let message = String(describing: error)
                return message.hasPrefix("PROPELLER_MQTT_URL=") && message.contains(url) && message.contains(reason)
            }
        }
    }

    @Test("durations are whole seconds with an optional s; errors name the variable")
    func durations() throws {
        let parser = EnvironmentParser(["A": "30", "B": " 30s ", "C": "", "D": "1.5", "E": "10m", "F": "0"])
        #expect(try parser.seconds("A", in: 1...60) == 30)
        #expect(try parser.seconds("B", in: 1...60) == 30)
        #expect(try parser.seconds("C", in: 1...60) == nil)
        #expect(try parser.seconds("missing", in: 1...60) == nil)
        for name in ["D", "E", "F"] {
            #expect(throws: EnvironmentError.self) { try parser.seconds(name, in: 1...60) }
            do {
                _ = try parser.seconds(name, in: 1...60)
            } catch {
                #expect(error.variable == name)
                #expect(error.description.contains("whole seconds from 1 to 60"))
            }
        }
    }
}
