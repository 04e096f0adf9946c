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

/// A running `propeller dev` (broker, manager, proplet) on free loopback ports in a temporary directory.
struct DevStack {
    let process: LaunchedProcess
    let managerURL: String
    let mqttPort: Int
    let dataDir: URL
    let logURL: URL
    /// The API token sent with every request, when the stack runs with API tokens on.
    var token: String? = nil

    /// The stack's own output so far (for failure messages).
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Sends an HTTP request to the manager; returns the status and the decoded JSON body.
    func request(_ method: String, _ path: String, body: String? = nil) async throws -> (Int, JSONValue) {
        var request = URLRequest(url: URL(string: managerURL + path)!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let value = (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
        return (status, value)
    }
}

/// Starts `propeller dev` (with extra `arguments`), waits until the manager answers and a proplet is
/// registered (alive, with its metadata), runs the body, then sends SIGINT and checks that the stack and every process it started are gone.
///
/// With `apiToken` the manager runs with API tokens on (`MANAGER_API_TOKENS_FILE` holding that one admin
/// token), `propeller dev`'s own client sends it (`PROPELLER_API_TOKEN`) and so does `DevStack.request`.
/// `allowPrivateRegistries` sets `PROPLET_REGISTRY_ALLOW_PRIVATE` for the stack (the test registries
/// listen on loopback, which proplets refuse for image_url by default).
func withDevStack<T>(
    demo: Bool = false,
    apiToken: String? = nil,
    allowPrivateRegistries: Bool = true,
    arguments: [String] = [],
    _ body: (DevStack) async throws -> T
) async throws -> T {
    let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("propeller-dev-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
    var environment = ["PROPLET_REGISTRY_ALLOW_PRIVATE": allowPrivateRegistries ? "true" : "false"]
    if let apiToken {
        let tokens = dataDir.appendingPathComponent("api-tokens")
        try "\(apiToken) admin\n".write(to: tokens, atomically: true, encoding: .utf8)
        chmod(tokens.path, 0o600)
        environment["MANAGER_API_TOKENS_FILE"] = tokens.path
        environment["PROPELLER_API_TOKEN"] = apiToken
    }
    let httpPort = try LoopbackPort.free()
    let mqttPort = try LoopbackPort.free()
    let logURL = dataDir.appendingPathComponent("dev.out")
    let process = try await ProcessLauncher.launch(
        BinaryLocator.path(of: "propeller"),
        arguments: [
            "dev", "--http-port", String(httpPort), "--mqtt-port", String(mqttPort), "--data-dir", dataDir.path,
        ]
            + (demo ? ["--demo"] : []) + arguments,
        environment: ProcessLauncher.inheritedEnvironment().merging(environment) { _, new in new },
        workingDirectory: repositoryRoot.path,
        output: .file(logURL.path)
    )
    let stack = DevStack(
        process: process,
        managerURL: "http://127.0.0.1:\(httpPort)",
        mqttPort: mqttPort,
        dataDir: dataDir,
        logURL: logURL,
        token: apiToken
    )
    defer {
        process.send(SIGKILL)
        try? FileManager.default.removeItem(at: dataDir)
    }
    try await waitUntilReady(stack)
    let result = try await body(stack)
    let spawned = descendants(of: process.processIdentifier)
    process.send(SIGINT)
    guard await process.waitForExit(timeout: .seconds(20)) != nil else {
        throw HarnessError("propeller dev did not exit within 20 s of SIGINT")
    }
    try await Task.sleep(for: .milliseconds(200))
    let survivors = spawned.filter(isAlive)
    guard survivors.isEmpty else {
        for pid in survivors { kill(pid, SIGKILL) }
        throw HarnessError("processes left running after SIGINT: \(survivors)")
    }
    return result
}

private func waitUntilReady(_ stack: DevStack) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        guard stack.process.isRunning else { throw HarnessError("propeller dev exited early:\n\(stack.log)") }
        // `propeller dev` prints its summary once its proplet has registered; both are waited for.
        if stack.log.contains("propeller dev is running"),
            let (status, page) = try? await stack.request("GET", "/proplets"), status == 200,
            (try? page.decoded(as: PropletPage.self))?.proplets.contains(where: { $0.alive && $0.metadata != nil })
                == true
        {
            return
        }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw HarnessError("propeller dev was not ready within 60 s:\n\(stack.log)")
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
