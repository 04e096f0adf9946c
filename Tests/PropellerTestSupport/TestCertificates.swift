import Foundation
import PropellerLauncher

/// A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with the openssl
/// command (Debian package openssl), for TLS tests of the broker and the manager.
public struct TestCertificates: Sendable {
    /// The directory holding every file (remove it when done).
    public let directory: URL
    /// The CA that signed the server and client certificates.
    public var caFile: String { directory.appendingPathComponent("ca.crt").path }
    /// An unrelated CA (verification against it must fail).
    public var otherCAFile: String { directory.appendingPathComponent("other-ca.crt").path }
    /// A client certificate signed by `caFile`.
    public var clientCertificateFile: String { directory.appendingPathComponent("client.crt").path }
    /// The key of `clientCertificateFile`.
    public var clientKeyFile: String { directory.appendingPathComponent("client.key").path }
    /// Broker lines that also require a client certificate signed by the test CA.
    public var mutualBrokerLines: [String] {
        brokerLines + ["cafile \(caFile)", "require_certificate true"]
    }
    /// Mosquitto listener lines for the server certificate and key.
    public var brokerLines: [String] {
        [
            "certfile \(directory.appendingPathComponent("server.crt").path)",
            "keyfile \(directory.appendingPathComponent("server.key").path)",
        ]
    }

    /// The server certificate (for 127.0.0.1) and its key.
    public var serverCertificateFile: String { directory.appendingPathComponent("server.crt").path }
    /// The key of `serverCertificateFile`.
    public var serverKeyFile: String { directory.appendingPathComponent("server.key").path }

    /// Makes the CA, a second unrelated CA, a server certificate and a client certificate.
    public static func make() async throws -> TestCertificates {
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
            let process = try await ProcessLauncher.launch(
                "/bin/sh",
                arguments: ["-c", "cd '\(directory.path)' && exec openssl \"$@\"", "openssl"] + step
            )
            let status = await process.waitForExit(timeout: .seconds(30))
            guard status == 0 else { throw TestCertificatesError(step: step.joined(separator: " ")) }
        }
        return TestCertificates(directory: directory)
    }
}

/// An openssl step failed.
public struct TestCertificatesError: Error, CustomStringConvertible {
    /// The openssl arguments.
    public var step: String
    /// `openssl … failed`.
    public var description: String { "openssl \(step) failed" }
}
