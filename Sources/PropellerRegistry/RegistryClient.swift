import Foundation
import Logging
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Talks to OCI distribution registries: picks http or https, answers `WWW-Authenticate` challenges
/// (Bearer tokens from the realm, or Basic with the configured credentials) and remembers what worked.
final class RegistryClient: Sendable {
    private let configuration: ModuleFetcherConfiguration
    private let transport: HTTPTransport
    private let logger: Logger
    /// `Authorization` values that worked, by `host:port` and scope.
    private let authorizations = Mutex<[String: String]>([:])

    /// The largest manifest or token answer read: 4 MiB (the limit registries apply to manifests).
    static let maxMetadataBytes = 4 * 1024 * 1024

    init(configuration: ModuleFetcherConfiguration, logger: Logger) {
        self.configuration = configuration
        self.transport = HTTPTransport(
            timeoutSeconds: configuration.timeoutSeconds,
            addressPolicy: configuration.addressPolicy
        )
        self.logger = logger
    }

    /// `http(s)://host:port/v2/`: https unless the registry is loopback or configured insecure.
    func baseURL(for registry: RegistryEndpoint, reference: String) throws(ModuleFetchError) -> URL {
        let plainAllowed =
            registry.isLoopback
            || configuration.insecureRegistries.contains { entry in
                (try? RegistryEndpoint(parsing: entry))?.hostPort.lowercased() == registry.hostPort.lowercased()
            }
        let scheme = registry.scheme ?? (plainAllowed ? "http" : "https")
        if scheme == "http", !plainAllowed {
            throw .insecureRegistry(reference: reference, registry: registry.hostPort)
        }
        guard let url = URL(string: "\(scheme)://\(registry.hostPort)/v2/") else {
            throw .badReference(reference: reference, reason: "registry \(registry.hostPort) does not form a URL")
        }
        return url
    }

    /// Sends a request to the registry, authenticating when challenged; returns any status but 401/403.
    /// `sent` is told how many bytes of `body` have been sent (from 0 again when a challenge makes it
    /// send the request a second time).
    func send(
        _ method: String,
        _ url: URL,
        registry: RegistryEndpoint,
        scope: String,
        headers: [String: String] = [:],
        body: [UInt8]? = nil,
        limit: Int = maxMetadataBytes,
        reference: String,
        sent: (@Sendable (Int64) -> Void)? = nil
    ) async throws(ModuleFetchError) -> HTTPResponse {
        let key = "\(registry.hostPort) \(scope)"
        let cached = authorizations.withLock { $0[key] }
        var response = try await perform(
            method,
            url,
            headers,
            body,
            cached,
            limit: limit,
            reference: reference,
            sent: sent
        )
        if response.status == 401 {
            let authorization = try await answer(
                challenge: response.header("WWW-Authenticate"),
                scope: scope,
                reference: reference
            )
            authorizations.withLock { $0[key] = authorization }
            response = try await perform(
                method,
                url,
                headers,
                body,
                authorization,
                limit: limit,
                reference: reference,
                sent: sent
            )
        }
        switch response.status {
        case 401:
            throw .unauthorized(
                reference: reference,
                detail: "\(registry.hostPort) rejected the "
                    + (configuration.username == nil
                        ? "anonymous request" : "credentials of \(configuration.username!)")
                    + " (\(Self.errorSummary(response)))"
            )
        case 403:
            throw .unauthorized(
                reference: reference,
                detail: "\(registry.hostPort) denied \(method) access (\(Self.errorSummary(response)))"
            )
        default:
            return response
        }
    }

    /// The registry's error body as `CODE: message`, or `HTTP <status>`.
    static func errorSummary(_ response: HTTPResponse) -> String {
        struct Body: Decodable {
            struct Item: Decodable {
                var code: String?
                var message: String?
            }
            var errors: [Item]?
        }
        if let body = try? JSONDecoder().decode(Body.self, from: Data(response.body)), let first = body.errors?.first {
            return [first.code, first.message].compactMap { $0 }.joined(separator: ": ") + " (HTTP \(response.status))"
        }
        return "HTTP \(response.status)"
    }

    private func perform(
        _ method: String,
        _ url: URL,
        _ headers: [String: String],
        _ body: [UInt8]?,
        _ authorization: String?,
        limit: Int,
        reference: String,
        sent: (@Sendable (Int64) -> Void)? = nil
    ) async throws(ModuleFetchError) -> HTTPResponse {
        var request = URLRequest(url: url)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        if let body { request.httpBody = Data(body) }
        logger.trace("registry request", metadata: ["http.method": "\(method)", "http.url": "\(url.absoluteString)"])
        do {
            return try await transport.send(request, limit: limit, sent: sent)
        } catch {
            switch error {
            case .bodyTooLarge(let limit, let size):
                throw .tooLarge(reference: reference, limit: limit, size: size)
            case .failed(let detail):
                throw .network(reference: reference, detail: "\(method) \(url.absoluteString): \(detail)")
            }
        }
    }

    /// The `Authorization` value that answers a 401's challenge.
    private func answer(
        challenge header: String?,
        scope: String,
        reference: String
    ) async throws(ModuleFetchError) -> String {
        guard let header, let challenge = AuthChallenge(header: header) else {
            throw .unauthorized(
                reference: reference,
                detail: "the registry answered 401 without a WWW-Authenticate challenge"
            )
        }
        switch challenge.scheme {
        case "basic":
            guard let basic = basicAuthorization else {
                throw .unauthorized(
                    reference: reference,
                    detail:
                        "the registry asks for Basic credentials; set PROPLET_REGISTRY_USERNAME and PROPLET_REGISTRY_PASSWORD"
                )
            }
            return basic
        case "bearer":
            return "Bearer " + (try await token(for: challenge, scope: scope, reference: reference))
        default:
            throw .unauthorized(
                reference: reference,
                detail: "unsupported authentication scheme \(challenge.scheme); accepted: Bearer, Basic"
            )
        }
    }

    private var basicAuthorization: String? {
        guard let username = configuration.username else { return nil }
        return "Basic " + Data("\(username):\(configuration.password ?? "")".utf8).base64EncodedString()
    }

    /// Asks the challenge's realm for a token (with Basic credentials when configured).
    private func token(
        for challenge: AuthChallenge,
        scope: String,
        reference: String
    ) async throws(ModuleFetchError) -> String {
        guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm),
            let scheme = components.scheme, scheme == "http" || scheme == "https", let host = components.host
        else {
            throw .unauthorized(reference: reference, detail: "the Bearer challenge has no usable realm URL")
        }
        if scheme == "http", (try? baseURL(for: RegistryEndpoint(parsing: host), reference: reference)) == nil {
            throw .insecureRegistry(reference: reference, registry: "token realm \(realm)")
        }
        var items = components.queryItems ?? []
        if let service = challenge.parameters["service"] { items.append(URLQueryItem(name: "service", value: service)) }
        // Ask for what the whole operation needs (a push needs pull,push even when a HEAD was challenged
        // for pull), plus whatever the challenge names.
        items.append(URLQueryItem(name: "scope", value: scope))
        if let challenged = challenge.parameters["scope"], challenged != scope {
            items.append(URLQueryItem(name: "scope", value: challenged))
        }
        components.queryItems = items
        guard let url = components.url else {
            throw .unauthorized(reference: reference, detail: "the Bearer realm \(realm) does not form a URL")
        }
        let response = try await perform(
            "GET",
            url,
            [:],
            nil,
            basicAuthorization,
            limit: Self.maxMetadataBytes,
            reference: reference
        )
        guard response.status == 200 else {
            throw .unauthorized(
                reference: reference,
                detail: "the token service \(host) refused a token (HTTP \(response.status))"
            )
        }
        struct TokenBody: Decodable {
            var token: String?
            var access_token: String?
        }
        guard let body = try? JSONDecoder().decode(TokenBody.self, from: Data(response.body)),
            let token = body.token ?? body.access_token, !token.isEmpty
        else {
            throw .unauthorized(reference: reference, detail: "the token service \(host) sent no token")
        }
        return token
    }
}
