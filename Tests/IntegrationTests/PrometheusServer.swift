import Foundation
import PropellerCore
import PropellerLauncher
import PropellerTestSupport

#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real Prometheus server (Debian's `/usr/bin/prometheus`) on a free loopback port, scraping one
/// target every second, with its data in a temporary directory, started with `ProcessLauncher`. Stopped
/// and removed by `stop()`; `with(scraping:_:)` always does that.
struct PrometheusServer {
    let process: LaunchedProcess
    let baseURL: String
    let directory: URL

    /// Whether the Debian binaries are installed (`make test` installs them).
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus") }

    /// Starts Prometheus scraping `target`, runs `body`, and stops Prometheus (also when `body` throws).
    static func with<T>(
        scraping target: String,
        token: String = "prometheus-read-token",
        _ body: (PrometheusServer) async throws -> T
    ) async throws -> T {
        let server = try await start(scraping: target, token: token)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Starts Prometheus scraping `target` (`host:port`) every second with a bearer token from a file.
    static func start(scraping target: String, token: String = "prometheus-read-token") async throws -> PrometheusServer
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prometheus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tokenFile = directory.appendingPathComponent("token")
        try token.write(to: tokenFile, atomically: true, encoding: .utf8)
        let config = directory.appendingPathComponent("prometheus.yml")
        try """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        scrape_configs:
          - job_name: propeller-manager
            scrape_interval: 1s
            metrics_path: /metrics
            authorization:
              type: Bearer
              credentials_file: \(tokenFile.path)
            static_configs:
              - targets: ["\(target)"]
        """.write(to: config, atomically: true, encoding: .utf8)
        let port = try LoopbackPort.free()
        let log = directory.appendingPathComponent("prometheus.log")
        let process = try await ProcessLauncher.launch(
            "/usr/bin/prometheus",
            arguments: [
                "--config.file=\(config.path)",
                "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(port)",
                "--log.level=warn",
            ],
            output: .file(log.path)
        )
        let server = PrometheusServer(process: process, baseURL: "http://127.0.0.1:\(port)", directory: directory)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw HarnessError("prometheus exited: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            }
            if let (status, _) = try? await server.get("/-/ready"), status == 200 { return server }
            try await Task.sleep(for: .milliseconds(100))
        }
        await server.stop()
        throw HarnessError("prometheus was not ready within 30 s")
    }

    /// GET on the server; the status and the body.
    func get(_ path: String, query: [String: String] = [:]) async throws -> (Int, Data) {
        var components = URLComponents(string: baseURL + path)!
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.key, value: $0.value) } }
        let (data, response) = try await URLSession.shared.data(from: components.url!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// `GET /api/v1/query`: the result vector (each element's `metric` labels and value), or throws the
    /// server's error (for a query that does not parse).
    func query(_ expression: String) async throws -> [JSONValue] {
        let (status, data) = try await get("/api/v1/query", query: ["query": expression])
        let body = try JSONDecoder().decode(JSONValue.self, from: data)
        guard status == 200, body["status"]?.stringValue == "success" else {
            throw HarnessError("query \(expression) failed (\(status)): \(String(decoding: data, as: UTF8.self))")
        }
        return body["data"]?["result"]?.elements ?? []
    }

    /// `GET /api/v1/label/{name}/values?match[]=…`.
    func labelValues(_ name: String, match: String) async throws -> [String] {
        let (_, data) = try await get("/api/v1/label/\(name)/values", query: ["match[]": match])
        let body = try JSONDecoder().decode(JSONValue.self, from: data)
        return body["data"]?.elements.compactMap(\.stringValue) ?? []
    }

    /// The state of the scrape target (`up`, `down`, `unknown`) and its last error.
    func targetHealth() async throws -> (String, String) {
        let (_, data) = try await get("/api/v1/targets")
        let body = try JSONDecoder().decode(JSONValue.self, from: data)
        let target = body["data"]?["activeTargets"]?.elements.first
        return (target?["health"]?.stringValue ?? "none", target?["lastError"]?.stringValue ?? "")
    }

    /// SIGTERM, SIGKILL after 10 s; returns once it has been reaped, and removes its directory.
    func stop() async {
        await process.terminate(grace: .seconds(10))
        try? FileManager.default.removeItem(at: directory)
    }
}
