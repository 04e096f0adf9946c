/// Everything the manager refuses, with the status the API maps it to (in `ErrorMiddleware` only).
public enum ManagerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Bad input: 400.
    case badRequest(String)
    /// Unknown id or path: 404.
    case notFound(String)
    /// Wrong state for the operation: 409.
    case conflict(String)
    /// Body larger than the limit: 413.
    case payloadTooLarge(limit: Int)
    /// Body not JSON: 415.
    case unsupportedMediaType(String?)
    /// No live proplet to run the task: 503.
    case unavailable(String)
    /// The store or broker failed: 500 (an operator problem, logged).
    case internalFailure(String)

    /// The message sent as `{"error": …}`.
    public var description: String {
        switch self {
        case .badRequest(let message), .notFound(let message), .conflict(let message), .unavailable(let message):
            message
        case .payloadTooLarge(let limit):
            "request body is larger than the limit of \(limit) bytes"
        case .unsupportedMediaType(let type):
            "request body must be JSON (Content-Type: application/json), got \(type.map { "\"\($0)\"" } ?? "no Content-Type")"
        case .internalFailure(let message):
            "internal error: \(message)"
        }
    }

    /// The HTTP status code.
    public var status: Int {
        switch self {
        case .badRequest: 400
        case .notFound: 404
        case .conflict: 409
        case .payloadTooLarge: 413
        case .unsupportedMediaType: 415
        case .unavailable: 503
        case .internalFailure: 500
        }
    }
}
