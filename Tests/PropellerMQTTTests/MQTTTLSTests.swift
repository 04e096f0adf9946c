import Foundation
import Logging
import PropellerMQTT
import PropellerTestSupport
import Testing

@Suite("MQTT over TLS (mqtts://) with a CA file")
struct MQTTTLSTests {
    typealias Certificates = TestCertificates

    @Test("a client with the right CA file connects over mqtts:// and round-trips a message")
    func roundTripOverTLS() async throws {
        let certificates = try await Certificates.make()
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        try await withMosquitto(options: MosquittoOptions(extraConfiguration: certificates.brokerLines)) { broker in
            let url = "mqtts://127.0.0.1:\(broker.port)"
            let client = try MQTTTestClient.make(url: url, name: "tls") { $0.caFile = certificates.caFile }
            try await client.connect()
            let stream = try await client.subscribe("secure/+", qos: .atLeastOnce)
            try await client.publish("secure/x", payload: Array("hidden".utf8), qos: .atLeastOnce, retain: false)
            var iterator = stream.makeAsyncIterator()
            #expect(await iterator.next()?.payload == Array("hidden".utf8))
            await client.disconnect()
        }
    }

    @Test("a broker certificate from another CA is not trusted: the client keeps retrying and never connects")
    func untrustedCertificate() async throws {
        let certificates = try await Certificates.make()
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        try await withMosquitto(options: MosquittoOptions(extraConfiguration: certificates.brokerLines)) { broker in
            let url = "mqtts://127.0.0.1:\(broker.port)"
            let client = try MQTTTestClient.make(url: url, name: "tls-wrong-ca") {
                $0.caFile = certificates.otherCAFile
            }
            try await client.connect(waitForConnection: false)
            let deadline = ContinuousClock.now + .seconds(10)
            while client.statistics.failedConnectionAttempts < 2 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(client.statistics.failedConnectionAttempts >= 2)
            #expect(!client.isConnected)
            await client.disconnect()
        }
    }

    @Test("a broker that requires client certificates accepts the client with its certificate and key only")
    func clientCertificate() async throws {
        let certificates = try await Certificates.make()
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        let options = MosquittoOptions(extraConfiguration: certificates.mutualBrokerLines)
        try await withMosquitto(options: options) { broker in
            let url = "ssl://127.0.0.1:\(broker.port)"
            let client = try MQTTTestClient.make(url: url, name: "tls-client-cert") {
                $0.caFile = certificates.caFile
                $0.certificateFile = certificates.clientCertificateFile
                $0.keyFile = certificates.clientKeyFile
            }
            try await client.connect()
            #expect(client.isConnected)
            await client.disconnect()

            let anonymous = try MQTTTestClient.make(url: url, name: "tls-no-cert") { $0.caFile = certificates.caFile }
            try await anonymous.connect(waitForConnection: false)
            let deadline = ContinuousClock.now + .seconds(10)
            while anonymous.statistics.failedConnectionAttempts < 2 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(anonymous.statistics.failedConnectionAttempts >= 2)
            #expect(!anonymous.isConnected)
            await anonymous.disconnect()
        }
    }

    @Test("a certificate without its key, or TLS files with a plain mqtt:// URL, are configuration errors")
    func inconsistentFiles() throws {
        var halfPair = MQTTConfiguration(url: "mqtts://127.0.0.1:8883", clientID: "x")
        halfPair.certificateFile = "/tmp/client.crt"
        #expect(throws: MQTTError.self) { _ = try MQTTClient(configuration: halfPair, logger: Logger(label: "t")) }
        var plain = MQTTConfiguration(url: "mqtt://127.0.0.1:1883", clientID: "x")
        plain.caFile = "/tmp/ca.crt"
        #expect(throws: MQTTError.self) { _ = try MQTTClient(configuration: plain, logger: Logger(label: "t")) }
    }
}
