import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A minimal HTTP client for integration tests against a real manager process.
public enum HTTPTestClient {
    /// A response: status, body bytes and headers.
    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var headers: [String: String]

        /// The body as a JSON object (nil when it is not one).
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        }

        /// The body as text.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Sends one request; a JSON body gets `Content-Type: application/json`; `headers` are added.
    public static func request(
        _ url: URL,
        method: String = "GET",
        json body: String? = nil,
        headers extraHeaders: [String: String] = [:],
        timeout: TimeInterval = 10
    ) async throws -> Response {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        for (name, value) in extraHeaders { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return Response(status: http.statusCode, body: data, headers: headers)
    }
}
