import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real CNCF distribution registry (Debian's `docker-registry`) on a free loopback port, with its
/// storage in a temporary directory and its access log captured, for tests.
public struct TestRegistry: Sendable {
    /// `127.0.0.1:<port>`: what a reference or `PROPLET_REGISTRY_URL` names.
    public let hostPort: String
    /// The storage root (`docker/registry/v2/…` lives below it).
    public let storageDirectory: URL
    /// The registry's stdout and stderr (structured log and access log).
    public let logFile: URL

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://\(hostPort)" }

    /// The registry's log so far.
    public func log() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// How many `GET /v2/<repository>/blobs/<digest>` requests the access log shows so far.
    public func blobGETs(repository: String, digest: String? = nil) -> Int {
        let needle = "\"GET /v2/\(repository)/blobs/\(digest ?? "sha256:")"
        return log().split(separator: "\n").filter { $0.contains(needle) }.count
    }

    /// How many `GET /v2/<repository>/manifests/…` requests the access log shows so far.
    public func manifestGETs(repository: String) -> Int {
        log().split(separator: "\n").filter { $0.contains("\"GET /v2/\(repository)/manifests/") }.count
    }

    /// The file holding a blob's bytes in the filesystem storage driver.
    public func blobFile(digest: String) -> URL {
        let hex = String(digest.dropFirst("sha256:".count))
        return storageDirectory.appendingPathComponent(
            "docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
        )
    }
}

/// Errors starting test servers.
public struct TestServerError: Error, CustomStringConvertible {
    /// What failed.
    public var description: String
}

/// Starts `docker-registry serve` on a free loopback port, runs `body`, and always stops the registry
/// and deletes its storage.
public func withRegistry<T>(_ body: (TestRegistry) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("registry-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var lastLog = ""
    for _ in 0..<5 {
        let port = try LoopbackPort.free()
        let registry = TestRegistry(
            hostPort: "127.0.0.1:\(port)",
            storageDirectory: directory.appendingPathComponent("storage"),
            logFile: directory.appendingPathComponent("registry-\(port).log")
        )
        let config = directory.appendingPathComponent("config-\(port).yml")
        try """
        version: 0.1
        log:
          level: info
          accesslog:
            disabled: false
        storage:
          filesystem:
            rootdirectory: \(registry.storageDirectory.path)
          delete:
            enabled: true
        http:
          addr: \(registry.hostPort)
        """.write(to: config, atomically: true, encoding: .utf8)
        let process = try await LoopbackServerProcess.start(
            executable: "/usr/bin/docker-registry",
            arguments: ["serve", config.path],
            output: registry.logFile
        )
        if await LoopbackServerProcess.waitForHTTP("\(registry.baseURL)/v2/", process: process) {
            do {
                let result = try await body(registry)
                await process.stop()
                return result
            } catch {
                await process.stop()
                throw error
            }
        }
        await process.stop()
        lastLog = registry.log()
    }
    throw TestServerError(description: "docker-registry did not start; its log:\n\(lastLog)")
}
