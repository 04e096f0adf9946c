import Hummingbird

/// Counts every request and records its latency in seconds, labelled by method, route template
/// (`/tasks/{id}`, never the raw path, so cardinality stays bounded) and status.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ManagerMetrics

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let path = context.endpointPath ?? "unmatched"
        let method = knownHTTPMethods.contains(request.method.rawValue) ? request.method.rawValue : "other"
        metrics.httpRequest(
            method: method,
            path: path,
            status: response.status.code,
            duration: ContinuousClock.now - start
        )
        return response
    }
}

/// Methods kept as labels; any other is counted as `other`.
private let knownHTTPMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
