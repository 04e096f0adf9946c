import Foundation
import PropellerCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A failure talking to the manager, shown to the user as one line.
struct CLIError: Error, CustomStringConvertible {
    var description: String
}

/// The manager's REST API as the CLI uses it (SPEC §4).
struct ManagerAPIClient {
    /// The manager's base URL, e.g. `http://127.0.0.1:7070`.
    let baseURL: URL

    init(baseURL: String) throws {
        guard let url = URL(string: baseURL), let scheme = url.scheme, scheme == "http" || scheme == "https",
            url.host != nil
        else {
            throw CLIError(
                description: "--manager-url must be an http(s) URL like http://127.0.0.1:7070, got \(baseURL)"
            )
        }
        self.baseURL = url
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
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let body {
            request.httpBody = try WireCoding.encode(body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError(description: "cannot reach the manager at \(baseURL.absoluteString): \(Self.reason(error))")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            if let error = try? JSONDecoder().decode(APIError.self, from: data) {
                throw CLIError(description: "\(error.error) (HTTP \(status))")
            }
            throw CLIError(description: "the manager answered HTTP \(status) to \(method) \(path)")
        }
        return data
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
            let text = underlying.userInfo[NSLocalizedDescriptionKey] as? String
        {
            return text
        }
        return (nsError.userInfo[NSLocalizedDescriptionKey] as? String) ?? "\(error)"
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
