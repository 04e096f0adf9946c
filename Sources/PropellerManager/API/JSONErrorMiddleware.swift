import Hummingbird
import Logging
import NIOCore
import PropellerCore

/// Turns every error into `{"error": "<message>"}` with its status (SPEC §4): `ManagerError` by its
/// case, Hummingbird's errors by their status, anything else 500 (logged — never the client's fault).
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ManagerError {
            if case .internalFailure = error {
                logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            }
            return try Self.response(status: error.status, message: error.description)
        } catch is NIOTooManyBytesError {
            return try Self.response(status: 413, message: "request body is too large")
        } catch let error as HTTPError {
            let message: String
            if error.status == .notFound {
                message = "no such endpoint: \(request.method) \(request.uri.path.prefix(200))"
            } else {
                message = error.body ?? error.status.reasonPhrase
            }
            return try Self.response(status: error.status.code, message: message)
        } catch let error as any HTTPResponseError {
            return try Self.response(status: error.status.code, message: error.status.reasonPhrase)
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return try Self.response(status: 500, message: "internal error")
        }
    }

    static func response(status: Int, message: String) throws -> Response {
        try JSONBody.response(APIError(error: message), status: HTTPResponse.Status(code: status))
    }
}
