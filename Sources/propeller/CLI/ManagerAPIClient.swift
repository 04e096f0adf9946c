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

    /// Sends a request and returns the decoded JSON body; a non-2xx answer becomes its `error` message.
    @discardableResult
    func send(
        _ method: String,
        _ path: String,
        query: [String: String] = [:],
        body: JSONValue? = nil
    ) async throws -> JSONValue {
        var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty {
            components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        }
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.timeoutInterval = 30
        // SPEC §6: the CLI sends PROPELLER_API_TOKEN as a bearer token when it is set.
        if let token = ProcessInfo.processInfo.environment["PROPELLER_API_TOKEN"], !token.isEmpty {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
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
        let value = data.isEmpty ? JSONValue.null : (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
        guard (200..<300).contains(status) else {
            if case .object(let object) = value, case .string(let message)? = object["error"] {
                throw CLIError(description: "\(message) (HTTP \(status))")
            }
            throw CLIError(description: "the manager answered HTTP \(status) to \(method) \(path)")
        }
        return value
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
