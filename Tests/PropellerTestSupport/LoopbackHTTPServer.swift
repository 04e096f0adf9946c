import Foundation

/// Small HTTP servers on a free loopback port, run by Python's standard library, for tests that need
/// something other than a registry: a static file server with chosen content types, and an
/// authenticating gate in front of a ``TestRegistry`` (Bearer token service or Basic auth).
public struct LoopbackHTTPServer: Sendable {
    /// `http://127.0.0.1:<port>`.
    public let baseURL: String
    /// `127.0.0.1:<port>`.
    public let hostPort: String
    /// The server's log: one `METHOD PATH STATUS` line per request.
    public let logFile: URL

    /// The request lines logged so far.
    public func requests() -> [String] {
        ((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("REQ ") }
    }

    /// How the gate authenticates clients.
    public enum GateMode: String, Sendable {
        /// 401 with `WWW-Authenticate: Bearer realm=…/token,service=…,scope=…`; `/token` hands out a token
        /// for the right Basic credentials.
        case bearer
        /// 401 with `WWW-Authenticate: Basic realm=…` unless the request carries the right credentials.
        case basic
    }
}

/// Serves `files` (path → body and content type) on a free loopback port while `body` runs.
public func withFileServer<T>(
    _ files: [String: (body: [UInt8], contentType: String)],
    _ body: (LoopbackHTTPServer) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("files-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var index: [String] = []
    for (number, (path, file)) in files.enumerated() {
        try Data(file.body).write(to: directory.appendingPathComponent("f\(number)"))
        index.append("\(path)\t\(file.contentType)\tf\(number)")
    }
    try index.joined(separator: "\n").write(
        to: directory.appendingPathComponent("index.tsv"),
        atomically: true,
        encoding: .utf8
    )
    return try await withPythonServer(["files", directory.path], in: directory, body)
}

/// Runs an authenticating proxy in front of `registry` while `body` runs; clients must present
/// `username`/`password` (Basic, or to obtain a Bearer token, per `mode`).
public func withRegistryGate<T>(
    _ registry: TestRegistry,
    mode: LoopbackHTTPServer.GateMode,
    username: String,
    password: String,
    _ body: (LoopbackHTTPServer) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gate-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await withPythonServer(
        ["gate", registry.hostPort, mode.rawValue, username, password],
        in: directory,
        body
    )
}

private func withPythonServer<T>(
    _ arguments: [String],
    in directory: URL,
    _ body: (LoopbackHTTPServer) async throws -> T
) async throws -> T {
    let script = directory.appendingPathComponent("server.py")
    try LoopbackHTTPScript.source.write(to: script, atomically: true, encoding: .utf8)
    let environment = ProcessInfo.processInfo.environment
    let python = environment["PROPELLER_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/bin/python3"
    for _ in 0..<5 {
        let port = try LoopbackPort.free()
        let server = LoopbackHTTPServer(
            baseURL: "http://127.0.0.1:\(port)",
            hostPort: "127.0.0.1:\(port)",
            logFile: directory.appendingPathComponent("server-\(port).log")
        )
        let process = try await LoopbackServerProcess.start(
            executable: python,
            arguments: ["-u", script.path, String(port)] + arguments,
            output: server.logFile
        )
        if await LoopbackServerProcess.waitForHTTP("\(server.baseURL)/__ready", process: process) {
            do {
                let result = try await body(server)
                await process.stop()
                return result
            } catch {
                await process.stop()
                throw error
            }
        }
        await process.stop()
    }
    throw TestServerError(description: "the loopback Python HTTP server did not start (\(python))")
}
