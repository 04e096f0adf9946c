import Hummingbird

/// Checks `Authorization: Bearer TOKEN` on every request except `/health`, `/health/ready` and the web
/// page's static files (`/`, `/ui/…`: no data in them; the page sends the token on its API calls) when
/// API tokens are configured (SPEC §4, §7): no or an unknown token → 401 with
/// `WWW-Authenticate: Bearer`; a `read` token on anything but GET/HEAD → 403. With no tokens configured
/// every request passes. The token is never logged nor echoed.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: APITokens

    /// Paths that answer without a token (load balancers and orchestrators probe them).
    static var openPaths: Set<String> { ["/health", "/health/ready", "/"] }

    /// Whether a path answers without a token: the health checks and the page's static files.
    /// `/ui/` passes only with one more path segment (what the `ui/:file` route matches).
    static func isOpen(_ path: String) -> Bool {
        openPaths.contains(path) || (path.hasPrefix("/ui/") && !path.dropFirst(4).contains("/"))
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard tokens.isEnabled, !Self.isOpen(request.uri.path) else {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization], let token = Self.bearerToken(header),
            let role = tokens.role(of: token)
        else {
            var response = try JSONErrorMiddleware<Context>.response(
                status: 401,
                message: "a valid API token is required: send Authorization: Bearer TOKEN"
            )
            response.headers[.wwwAuthenticate] = #"Bearer realm="propeller""#
            return response
        }
        if role == .read && request.method != .get && request.method != .head {
            return try JSONErrorMiddleware<Context>.response(
                status: 403,
                message: "this token may only read (GET); \(request.method) needs an admin token"
            )
        }
        return try await next(request, context)
    }

    /// The token of `Bearer TOKEN` (scheme case-insensitive), or nil for any other scheme.
    static func bearerToken(_ header: String) -> Substring? {
        let trimmed = header.drop { $0 == " " }
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return nil }
        let token = trimmed.dropFirst(7).drop { $0 == " " }
        return token.isEmpty ? nil : token
    }
}
