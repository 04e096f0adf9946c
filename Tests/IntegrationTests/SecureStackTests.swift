import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The whole stack with every SPEC §7 measure on: a broker from `propeller broker-config` with a TLS
/// listener that requires client certificates, the manager over mqtts:// serving HTTPS with API
/// tokens, two proplets over mqtts://, and the CLI — all with certificates the test makes.
@Suite("The stack over mqtts:// with client certificates, the API over HTTPS with tokens", .timeLimit(.minutes(5)))
struct SecureStackTests {
    static let admin = "admin-9f8e7d6c5b4a39281706"
    static let reader = "reader-0a1b2c3d4e5f60718293"

    /// Spawns `propeller ARGS` with `environment` added, logging to `log`.
    static func spawn(_ arguments: [String], _ environment: [String: String], log: URL) throws -> SpawnedProcess {
        try SpawnedProcess(
            "/usr/bin/env",
            arguments: environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                + [BinaryLocator.path(of: "propeller")] + arguments,
            outputFile: log.path
        )
    }

    /// `curl` against the manager: returns the status line and headers and body (`-i`).
    static func curl(_ arguments: [String], ca: String) async throws -> CommandResult {
        try await runCommand("/usr/bin/curl", ["-sS", "-i", "--max-time", "10", "--cacert", ca] + arguments)
    }

    @Test(
        "the manager over mqtts:// and HTTPS: 401 without a token, 403 for a read POST, 201 for admin; no token logged"
    )
    func secureManager() async throws {
        try await Self.runSecureStack(withProplets: false)
    }

    /// The generated ACL follows SPEC §2's per-proplet topics (`control/proplet/{id}/create`, …): each
    /// proplet may write only its own.
    @Test("with two proplets over mqtts:// a task runs end to end through the CLI over HTTPS")
    func secureStack() async throws {
        try await Self.runSecureStack(withProplets: true)
    }

    static func runSecureStack(withProplets: Bool) async throws {
        let certificates = try await TestCertificates.make()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("secure-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(at: certificates.directory)
            try? FileManager.default.removeItem(at: work)
        }
        let brokerPort = try LoopbackPort.free()
        let generated = try await runCommand(
            BinaryLocator.path(of: "propeller"),
            [
                "broker-config", "--output", work.appendingPathComponent("broker").path, "--port", "\(brokerPort)",
                "--broker-user", "root", "--proplet", "pa", "--proplet", "pb", "--tls-cert",
                certificates.serverCertificateFile, "--tls-key", certificates.serverKeyFile, "--tls-ca",
                certificates.caFile, "--require-client-certificate",
            ]
        )
        try #require(generated.status == 0, "\(generated.stderr)")
        let tokens = work.appendingPathComponent("tokens")
        try "\(Self.admin) admin\n\(Self.reader) read\n".write(to: tokens, atomically: true, encoding: .utf8)
        let clientTLS = [
            "PROPELLER_MQTT_CERT_FILE": certificates.clientCertificateFile,
            "PROPELLER_MQTT_KEY_FILE": certificates.clientKeyFile,
        ]
        let brokerDirectory = work.appendingPathComponent("broker")
        try await withConfiguredMosquitto(directory: brokerDirectory, port: brokerPort) { broker in
            let httpPort = try LoopbackPort.free()
            var managerEnvironment = try readEnvironmentFile(
                brokerDirectory.appendingPathComponent("manager-manager.env")
            )
            #expect(managerEnvironment["PROPELLER_MQTT_URL"] == "mqtts://127.0.0.1:\(brokerPort)")
            managerEnvironment.merge(clientTLS) { _, new in new }
            managerEnvironment.merge([
                "MANAGER_HTTP_PORT": "\(httpPort)", "MANAGER_STORAGE": "memory",
                "MANAGER_TLS_CERT_FILE": certificates.serverCertificateFile,
                "MANAGER_TLS_KEY_FILE": certificates.serverKeyFile, "MANAGER_API_TOKENS_FILE": tokens.path,
                "MANAGER_HTTP_IDLE_TIMEOUT": "2", "PROPELLER_LOG_LEVEL": "trace",
            ]) { _, new in new }
            let managerLog = work.appendingPathComponent("manager.log")
            let manager = try Self.spawn(["manager"], managerEnvironment, log: managerLog)
            var proplets: [SpawnedProcess] = []
            for id in withProplets ? ["pa", "pb"] : [] {
                var environment = try readEnvironmentFile(brokerDirectory.appendingPathComponent("proplet-\(id).env"))
                environment.merge(clientTLS) { _, new in new }
                environment["PROPLET_STATE_DIR"] = work.appendingPathComponent("state-\(id)").path
                environment["PROPLET_LIVELINESS_INTERVAL"] = "1"
                environment["PROPELLER_LOG_LEVEL"] = "trace"
                proplets.append(try Self.spawn(["proplet"], environment, log: work.appendingPathComponent("\(id).log")))
            }
            defer {
                for process in proplets + [manager] { kill(process.processIdentifier, SIGKILL) }
            }
            let base = "https://127.0.0.1:\(httpPort)"
            let cli = [
                "PROPELLER_MANAGER_URL": base, "PROPELLER_API_TOKEN": Self.admin,
                "PROPELLER_MANAGER_CA_FILE": certificates.caFile,
            ]
            func propeller(_ arguments: [String]) async throws -> CommandResult {
                try await runCommand(
                    BinaryLocator.path(of: "propeller"),
                    arguments + ["--manager-url", base],
                    environment: cli,
                    directory: repositoryRoot,
                    timeout: .seconds(30)
                )
            }
            if withProplets {
                // Both proplets register over mqtts:// and are listed through the CLI over HTTPS.
                var listed = CommandResult(status: -1, stdout: "", stderr: "")
                for _ in 0..<150 {
                    listed = try await propeller(["proplet", "list"])
                    if listed.status == 0, listed.stdout.contains("pa"), listed.stdout.contains("pb") { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                let tails = ["manager.log", "pa.log"].map {
                    ((try? String(contentsOf: work.appendingPathComponent($0), encoding: .utf8)) ?? "").suffix(1500)
                }
                #expect(
                    listed.stdout.contains("pa") && listed.stdout.contains("pb"),
                    "\(listed.stderr)\n\(broker.log.suffix(800))\n\(tails.joined(separator: "\n---\n"))"
                )

                let created = try await propeller([
                    "task", "create", "Examples/add.wat", "--name", "add", "--input", "20", "--input", "22",
                ])
                try #require(created.status == 0, "\(created.stderr)")
                let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(try await propeller(["task", "start", id]).status == 0)
                var results = CommandResult(status: -1, stdout: "", stderr: "")
                for _ in 0..<100 {
                    results = try await propeller(["task", "results", id])
                    if results.stdout.contains("completed") { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(results.stdout.contains("\"42\""), "\(results.stdout)\(results.stderr)")
            } else {
                // The manager connected over mqtts:// with its client certificate; the CLI works over HTTPS.
                var brokerLog = ""
                for _ in 0..<100 where !brokerLog.contains("u'manager'") {
                    try await Task.sleep(for: .milliseconds(100))
                    brokerLog =
                        (try? String(
                            contentsOf: brokerDirectory.appendingPathComponent("mosquitto.stderr"),
                            encoding: .utf8
                        ))
                        ?? ""
                }
                let managerText = (try? String(contentsOf: managerLog, encoding: .utf8)) ?? ""
                #expect(brokerLog.contains("u'manager'"), "\(brokerLog.suffix(1000))\n\(managerText.suffix(1500))")
                let created = try await propeller(["task", "create", "Examples/add.wat", "--name", "add"])
                #expect(created.status == 0, "\(created.stderr)")
                let listed = try await propeller(["task", "list"])
                #expect(listed.status == 0 && listed.stdout.contains("add"), "\(listed.stdout)\(listed.stderr)")
            }
            let id = try #require(
                try await propeller(["task", "create", "Examples/add.wat", "--name", "add"]).stdout
                    .split(separator: "\n").first.map(String.init)
            )

            // The API's answers without a token, with the read token, with the wrong CA.
            let anonymous = try await Self.curl(["\(base)/tasks"], ca: certificates.caFile)
            #expect(anonymous.stdout.hasPrefix("HTTP/1.1 401"), "\(anonymous.stdout)\(anonymous.stderr)")
            #expect(anonymous.stdout.lowercased().contains("www-authenticate: bearer"))
            let readPost = try await Self.curl(
                [
                    "-X", "POST", "-H", "Authorization: Bearer \(Self.reader)", "-H", "Content-Type: application/json",
                    "-d", #"{"name":"add","file":"AGFzbQEAAAA="}"#, "\(base)/tasks",
                ],
                ca: certificates.caFile
            )
            #expect(readPost.stdout.hasPrefix("HTTP/1.1 403"), "\(readPost.stdout)")
            let readGet = try await Self.curl(
                ["-H", "Authorization: Bearer \(Self.reader)", "\(base)/tasks/\(id)"],
                ca: certificates.caFile
            )
            #expect(readGet.stdout.hasPrefix("HTTP/1.1 200"))
            let health = try await Self.curl(["\(base)/health"], ca: certificates.caFile)
            #expect(health.stdout.hasPrefix("HTTP/1.1 200"), "health needs no token")
            let wrongCA = try await Self.curl(["\(base)/health"], ca: certificates.otherCAFile)
            #expect(wrongCA.status != 0, "a manager certificate from another CA is refused by the client")

            // 200 half-open connections: /health still answers, and each is closed within the idle timeout.
            let sockets = try (0..<200).map { _ in try IdleConnection(port: httpPort) }
            defer { for socket in sockets { socket.close() } }
            let during = try await Self.curl(["\(base)/health"], ca: certificates.caFile)
            #expect(during.stdout.hasPrefix("HTTP/1.1 200"), "/health answers beside 200 idle connections")
            try await Task.sleep(for: .seconds(4))
            let closed = sockets.filter { $0.isClosedByPeer() }.count
            #expect(closed == 200, "\(closed) of 200 idle connections closed within 2 s + slack")

            // No token in any log (the manager logs at trace level).
            try await Task.sleep(for: .milliseconds(200))
            let names = ["manager.log"] + (withProplets ? ["pa.log", "pb.log"] : [])
            let logs = try names.map {
                try String(contentsOf: work.appendingPathComponent($0), encoding: .utf8)
            }
            #expect(!logs[0].isEmpty)
            for log in logs { #expect(!log.contains(Self.admin) && !log.contains(Self.reader)) }
        }
    }

    @Test("past MANAGER_HTTP_MAX_CONNECTIONS a new connection is closed at once; freed slots serve again")
    func connectionLimit() async throws {
        let manager = try await ManagerProcess.start(environment: [
            "MANAGER_STORAGE": "memory", "MANAGER_HTTP_MAX_CONNECTIONS": "8", "MANAGER_HTTP_IDLE_TIMEOUT": "30",
        ])
        defer { Task { await manager.stop() } }
        let port = try #require(manager.baseURL.port)
        // 12 connections against a limit of 8 (one slot may still hold the start-up probe's keep-alive).
        var sockets: [IdleConnection] = []
        for _ in 0..<12 {
            sockets.append(try IdleConnection(port: port))
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(500))
        let open = sockets.filter { !$0.isClosedByPeer() }.count
        #expect((7...8).contains(open), "\(open) of 12 connections kept open with a limit of 8")
        #expect(sockets.suffix(4).allSatisfy { $0.isClosedByPeer() }, "the connections past the limit are closed")
        for socket in sockets { socket.close() }
        try await Task.sleep(for: .milliseconds(300))
        let health = try await HTTPTestClient.request(manager.baseURL.appendingPathComponent("health"))
        #expect(health.status == 200)
        await manager.stop()
    }
}

/// A TCP connection to 127.0.0.1 that never sends a byte (a half-open client).
final class IdleConnection: Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw HarnessError("connect to 127.0.0.1:\(port) failed: errno \(errno)") }
    }

    /// Whether the server has closed the connection (a read returns end of file or a reset).
    func isClosedByPeer() -> Bool {
        var poll = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard Glibc.poll(&poll, 1, 0) == 1 else { return false }
        var byte: UInt8 = 0
        let count = recv(descriptor, &byte, 1, Int32(MSG_DONTWAIT))
        return count == 0 || (count < 0 && errno != EAGAIN)
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}
