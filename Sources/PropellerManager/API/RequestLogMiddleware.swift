import Hummingbird
import Logging

/// Logs one line per request once its response is ready: `request` with `http.method`, `http.path`
/// (without the query), `http.status` and `duration_ms` (milliseconds, three decimals).
///
/// Level `info`, except the polled endpoints (`GET /metrics`, `/health`, `/health/ready`) at `debug`
/// so a Prometheus scrape every 15 s does not fill the log, and 5xx at `error`. Headers are never
/// logged (they carry tokens).
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let path = String(request.uri.path.prefix(256))
        do {
            let response = try await next(request, context)
            log(request, path: path, status: response.status.code, since: start)
            return response
        } catch {
            log(request, path: path, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: start)
            throw error
        }
    }

    private func log(_ request: Request, path: String, status: Int, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let polled = request.method == .get && polledRequestPaths.contains(path)
        let level: Logger.Level = status >= 500 ? .error : polled ? .debug : .info
        logger.log(
            level: level,
            "request",
            metadata: [
                "http.method": "\(request.method.rawValue)",
                "http.path": "\(path)",
                "http.status": "\(status)",
                "duration_ms": "\((milliseconds * 1000).rounded() / 1000)",
            ]
        )
    }
}

/// Paths polled by monitoring systems, logged at `debug`.
private let polledRequestPaths: Set<String> = ["/metrics", "/health", "/health/ready"]
