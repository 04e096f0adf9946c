import Foundation
import Logging
import PropellerMQTT
import PropellerTestSupport
import Testing

@Suite("MQTT over TLS (mqtts://) with a CA file")
struct MQTTTLSTests {
    /// A throwaway CA and a server certificate for 127.0.0.1 made with the openssl command.
    struct Certificates {
        let directory: URL
        var caFile: String { directory.appendingPathComponent("ca.crt").path }
        var otherCAFile: String { directory.appendingPathComponent("other-ca.crt").path }
        var clientCertificateFile: String { directory.appendingPathComponent("client.crt").path }
        var clientKeyFile: String { directory.appendingPathComponent("client.key").path }
        /// Broker lines that also require a client certificate signed by the test CA.
        var mutualBrokerLines: [String] {
            brokerLines + ["cafile \(caFile)", "require_certificate true"]
        }
        var brokerLines: [String] {
            [
                "certfile \(directory.appendingPathComponent("server.crt").path)",
                "keyfile \(directory.appendingPathComponent("server.key").path)",
            ]
        }

        static func make() async throws -> Certificates {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try "subjectAltName=IP:127.0.0.1\n".write(
                to: directory.appendingPathComponent("san.ext"),
                atomically: true,
                encoding: .utf8
            )
            let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            let steps: [[String]] = [
                ["req", "-x509"] + key + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Test CA"],
                ["req", "-x509"] + key + [
                    "-keyout", "other.key", "-out", "other-ca.crt", "-days", "2", "-subj", "/CN=Other",
                ],
                ["req"] + key + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
                [
                    "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "server.crt", "-days", "2", "-extfile", "san.ext",
                ],
                ["req"] + key + ["-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=proplet-a"],
                [
                    "x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "client.crt", "-days", "2",
                ],
            ]
            for step in steps {
                let process = try SpawnedProcess(
                    "/bin/sh",
                    arguments: ["-c", "cd '\(directory.path)' && exec openssl \"$@\"", "openssl"] + step
                )
                let status = await process.waitForExit(timeout: .seconds(30))
                try #require(status == 0, "openssl \(step.joined(separator: " ")) failed")
            }
            return Certificates(directory: directory)
        }
    }

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
