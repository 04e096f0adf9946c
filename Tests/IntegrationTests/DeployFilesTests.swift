import Foundation
import PropellerTestSupport
import Testing

/// The files in `deploy/` are valid for the tools that read them.
@Suite("deploy/ files")
struct DeployFilesTests {
    @Test("the systemd units pass systemd-analyze verify (with ExecStart pointing at the built binary)")
    func systemdUnits() async throws {
        let analyze = "/usr/bin/systemd-analyze"
        try #require(FileManager.default.isExecutableFile(atPath: analyze), "systemd-analyze is not installed")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("units-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for name in ["propeller-manager.service", "propeller-proplet.service"] {
            let text = try String(
                contentsOf: repositoryRoot.appendingPathComponent("deploy/systemd/\(name)"),
                encoding: .utf8
            )
            #expect(text.contains("ExecStart=/usr/local/bin/propeller "))
            let unit = directory.appendingPathComponent(name)
            try text.replacingOccurrences(of: "/usr/local/bin/propeller", with: BinaryLocator.path(of: "propeller"))
                .write(to: unit, atomically: true, encoding: .utf8)
            paths.append(unit.path)
        }
        let result = try await runCommand(analyze, ["verify"] + paths, timeout: .seconds(60))
        let complaints = (result.stdout + result.stderr).split(separator: "\n").filter { line in
            paths.contains { line.contains($0) || line.contains(URL(fileURLWithPath: $0).lastPathComponent) }
        }
        #expect(result.status == 0 && complaints.isEmpty, "\(result.stdout)\(result.stderr)")
    }

    @Test("deploy/prometheus.yml passes promtool check config")
    func prometheusConfig() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"), "promtool is not installed")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("promcfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let token = directory.appendingPathComponent("token")
        try "a-read-token".write(to: token, atomically: true, encoding: .utf8)
        let text = try String(
            contentsOf: repositoryRoot.appendingPathComponent("deploy/prometheus.yml"),
            encoding: .utf8
        )
        #expect(
            text.contains("type: Bearer") && text.contains("credentials_file: /etc/prometheus/propeller-read-token")
        )
        let config = directory.appendingPathComponent("prometheus.yml")
        try text.replacingOccurrences(of: "/etc/prometheus/propeller-read-token", with: token.path)
            .write(to: config, atomically: true, encoding: .utf8)
        let result = try await runCommand("/usr/bin/promtool", ["check", "config", config.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }
}
