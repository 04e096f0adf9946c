import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP answer, with the body read completely (up to a byte limit).
struct HTTPResponse: Sendable {
    /// The status code, e.g. 200.
    var status: Int
    /// Header fields with lowercased names.
    var headers: [String: String]
    /// The body.
    var body: [UInt8]
    /// The URL that answered (after redirects).
    var url: URL?

    /// A header by case-insensitive name.
    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why a request did not produce a response.
enum HTTPTransportError: Error, Sendable {
    /// The body (or its announced `Content-Length`) went past the limit; `size` is known when announced.
    case bodyTooLarge(limit: Int, size: Int?)
    /// Connection, TLS or timeout failure.
    case failed(String)
}

/// Sends single HTTP requests with URLSession and stops reading a body once it exceeds a limit, so an
/// over-size module is never held in memory whole.
struct HTTPTransport: Sendable {
    /// The time limit of each request, in seconds.
    var timeoutSeconds: Double
    /// Which hosts requests and their redirects may reach.
    var addressPolicy: AddressPolicy

    /// Sends `request`; the body may be at most `limit` bytes. A host the address policy refuses (in
    /// the request or in a redirect) fails the request before anything is sent to it. With `sent`, a
    /// request body goes up as an upload task and `sent` is called with the bytes of it sent so far, as
    /// they leave (FoundationNetworking reports upload progress only for upload tasks).
    func send(
        _ request: URLRequest,
        limit: Int,
        sent: (@Sendable (Int64) -> Void)? = nil
    ) async throws(HTTPTransportError) -> HTTPResponse {
        var request = request
        request.timeoutInterval = timeoutSeconds
        if let host = request.url?.host, let refusal = addressPolicy.refusal(host: host) {
            throw .failed(refusal)
        }
        // A HEAD answer announces the size of the body it does not send (a blob already in the registry).
        let collector = BoundedBodyCollector(
            limit: limit,
            addressPolicy: addressPolicy,
            sent: sent,
            checksAnnouncedLength: request.httpMethod != "HEAD"
        )
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeoutSeconds
        configuration.timeoutIntervalForResource = timeoutSeconds
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let session = URLSession(configuration: configuration, delegate: collector, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let task: URLSessionDataTask
        if sent != nil, let body = request.httpBody {
            request.httpBody = nil
            task = session.uploadTask(with: request, from: body)
        } else {
            task = session.dataTask(with: request)
        }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                collector.start(continuation)
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
        return try result.get()
    }
}

/// The delegate of one request: collects the body, enforces the limit, resumes the caller once.
private final class BoundedBodyCollector: NSObject, URLSessionDataDelegate, Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result<HTTPResponse, HTTPTransportError>, Never>?
        var response: HTTPURLResponse?
        var body: [UInt8] = []
        var failure: HTTPTransportError?
        var challengeCancelled = false
    }

    private let limit: Int
    private let addressPolicy: AddressPolicy
    private let sent: (@Sendable (Int64) -> Void)?
    private let checksAnnouncedLength: Bool
    private let state = Mutex(State())

    init(
        limit: Int,
        addressPolicy: AddressPolicy,
        sent: (@Sendable (Int64) -> Void)?,
        checksAnnouncedLength: Bool
    ) {
        self.limit = limit
        self.addressPolicy = addressPolicy
        self.sent = sent
        self.checksAnnouncedLength = checksAnnouncedLength
    }

    func start(_ continuation: CheckedContinuation<Result<HTTPResponse, HTTPTransportError>, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func urlSession(
        _ session: URLSession,
        dataTask: URLSessionDataTask,
        didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        let http = response as? HTTPURLResponse
        let announced = http?.value(forHTTPHeaderField: "Content-Length").flatMap { Int($0) }
        let tooLarge = checksAnnouncedLength && (announced.map { $0 > limit } ?? false)
        state.withLock {
            $0.response = http
            if tooLarge { $0.failure = .bodyTooLarge(limit: limit, size: announced) }
        }
        completionHandler(tooLarge ? .cancel : .allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let overLimit = state.withLock { state -> Bool in
            guard state.failure == nil else { return true }
            if state.body.count + data.count > limit {
                state.failure = .bodyTooLarge(limit: limit, size: nil)
                state.body = []
                return true
            }
            state.body.append(contentsOf: data)
            return false
        }
        if overLimit { dataTask.cancel() }
    }

    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        didSendBodyData bytesSent: Int64,
        totalBytesSent: Int64,
        totalBytesExpectedToSend: Int64
    ) {
        sent?(totalBytesSent)
    }

    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest,
        completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        if let host = request.url?.host, let refusal = addressPolicy.refusal(host: host) {
            state.withLock { $0.failure = .failed("redirect refused: \(refusal)") }
            completionHandler(nil)
            task.cancel()
            return
        }
        // Credentials are for the registry only: drop them when a blob redirect leaves its host.
        var next = request
        if request.url?.host != task.originalRequest?.url?.host {
            next.setValue(nil, forHTTPHeaderField: "Authorization")
        }
        completionHandler(next)
    }

    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        // Registry challenges are answered by RegistryClient from the 401 response itself. FoundationNetworking
        // hangs on `.performDefaultHandling` for a Basic challenge, so cancel and hand back the 401 instead.
        state.withLock { $0.challengeCancelled = true }
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let (continuation, result) = state.withLock { state in
            let continuation = state.continuation
            state.continuation = nil
            let result: Result<HTTPResponse, HTTPTransportError>
            if let failure = state.failure {
                result = .failure(failure)
            } else if let error, !(state.challengeCancelled && state.response?.statusCode == 401) {
                result = .failure(.failed(Self.reason(error)))
            } else if let response = state.response {
                var headers: [String: String] = [:]
                for (name, value) in response.allHeaderFields {
                    if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
                }
                result = .success(
                    HTTPResponse(status: response.statusCode, headers: headers, body: state.body, url: response.url)
                )
            } else {
                result = .failure(.failed("the server sent no HTTP response"))
            }
            return (continuation, result)
        }
        continuation?.resume(returning: result)
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if nsError.domain == NSURLErrorDomain, nsError.code == NSURLErrorTimedOut { return "the request timed out" }
        if let text = nsError.userInfo[NSLocalizedDescriptionKey] as? String { return text }
        return "\(error)"
    }
}
