import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import PropellerCore

/// A failure talking to the manager, shown to the user as one line.
struct CLIError: Error, CustomStringConvertible {
    var description: String
}

/// The manager's REST API as the CLI uses it (SPEC §4), over HTTP or HTTPS.
///
/// Reads `PROPELLER_API_TOKEN` (sent as `Authorization: Bearer`) and `PROPELLER_MANAGER_CA_FILE` (a PEM
/// CA that verifies an HTTPS manager instead of the system's trusted certificates).
struct ManagerAPIClient {
    /// The manager's base URL, e.g. `http://127.0.0.1:7070`.
    let baseURL: URL
    /// The API token, or nil without `PROPELLER_API_TOKEN`.
    let token: String?
    /// The CA file trusted for `https://`, or nil for the system's trust store.
    let caFile: String?

    init(
        baseURL: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        guard let url = URL(string: baseURL), let scheme = url.scheme, scheme == "http" || scheme == "https",
            url.host != nil
        else {
            throw CLIError(
                description: "--manager-url must be an http(s) URL like http://127.0.0.1:7070, got \(baseURL)"
            )
        }
        self.baseURL = url
        token = environment["PROPELLER_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        caFile = environment["PROPELLER_MANAGER_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw CLIError(description: "PROPELLER_MANAGER_CA_FILE=\(caFile) is not a readable PEM file")
        }
    }

    /// Sends a request and decodes the body as one of the API's response types (PropellerCore's
    /// `APIResponses`, `WasmTask`, `Proplet`); a non-2xx answer becomes its `error` message.
    func fetch<Body: Decodable>(
        _ type: Body.Type,
        _ method: String = "GET",
        _ path: String,
        query: [String: String] = [:],
        body: JSONValue? = nil
    ) async throws -> Body {
        let data = try await exchange(method, path, query: query, body: body)
        do {
            return try WireCoding.decode(type, from: data)
        } catch {
            throw CLIError(description: "the manager's answer to \(method) \(path) is not a \(type): \(error)")
        }
    }

    /// Sends a request and returns the JSON body as it is (for `--json` output and requests without a
    /// body in the answer); a non-2xx answer becomes its `error` message.
    @discardableResult
    func send(
        _ method: String,
        _ path: String,
        query: [String: String] = [:],
        body: JSONValue? = nil
    ) async throws -> JSONValue {
        let data = try await exchange(method, path, query: query, body: body)
        return data.isEmpty ? JSONValue.null : (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
    }

    /// Sends a GET and returns the body's bytes as they are (`GET /tasks/{id}/module`); a non-2xx answer
    /// becomes its `error` message.
    func bytes(_ path: String) async throws -> Data {
        try await exchange("GET", path, query: [:], body: nil)
    }

    private func exchange(
        _ method: String,
        _ path: String,
        query: [String: String],
        body: JSONValue?
    ) async throws -> Data {
        var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty {
            components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        }
        var request = HTTPClientRequest(url: components.url!.absoluteString)
        request.method = .init(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: try WireCoding.encode(body)))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let (status, data) = try await execute(request)
        guard (200..<300).contains(status) else {
            if let error = try? JSONDecoder().decode(APIError.self, from: data) {
                throw CLIError(description: "\(error.error) (HTTP \(status))")
            }
            throw CLIError(description: "the manager answered HTTP \(status) to \(method) \(path)")
        }
        return data
    }

    /// Runs one request on a client of its own (a CLI sends few), always shut down afterwards.
    private func execute(_ request: HTTPClientRequest) async throws -> (Int, Data) {
        try ManagerProbe.check(baseURL)
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile { tls.trustRoots = .file(caFile) }
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                tlsConfiguration: tls,
                timeout: .init(connect: .seconds(10), read: .seconds(30))
            )
        )
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 256 << 20)
            try? await client.shutdown()
            return (Int(response.status.code), Data(buffer: body))
        } catch {
            try? await client.shutdown()
            throw CLIError(description: "cannot reach the manager at \(baseURL.absoluteString): \(Self.plain(error))")
        }
    }
}

extension ManagerAPIClient {
    /// An HTTP client error as a short phrase (no type names, no nested descriptions, one line).
    static func plain(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectTimeout") { return "the connection timed out after 10 s" }
        if text.contains("deadlineExceeded") || text.contains("readTimeout") {
            return "it did not answer within 30 s"
        }
        if text.contains("remoteConnectionClosed") { return "it closed the connection" }
        if text.lowercased().contains("ssl") || text.lowercased().contains("certificate") {
            return "the TLS handshake failed (check PROPELLER_MANAGER_CA_FILE and the URL's scheme)"
        }
        return text.split(separator: "\n").first.map(String.init) ?? text
    }
}

extension JSONValue {
    /// The value as plain text for tables: strings unquoted, null as "-".
    var text: String {
        switch self {
        case .string(let value): value
        case .null: "-"
        case .number(let value): String(format: "%.2f", value)
        default: description
        }
    }

    /// Pretty-printed JSON.
    var prettyJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? description
    }
}
